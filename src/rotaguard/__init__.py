"""RotaGuard: safe, ACGME-compliant residency block scheduling.

Layers (imports point down only): deployments -> flows -> tasks -> solver | compliance |
backups -> db -> domain. Nothing below ``tasks`` imports Prefect.
"""

__version__ = "0.1.0"
