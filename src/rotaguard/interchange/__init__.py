"""The edges: the program document (``rotaguard-program/1``), synthetic programs and exports.

Conversions between files and ``rotaguard.domain`` values live here and nowhere else.
"""
