#!/bin/sh
# One-shot set-up of the S3-compatible store for RotaGuard's off-site backup copies (run by the
# `createbucket` service of docker-compose.yml with the minio/mc image; safe to run again):
# the bucket, default SSE-S3 encryption on it, and RotaGuard's own access key limited to it
# (the root credentials stay with the store).
set -e

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${ROTAGUARD_S3_BUCKET:?}"
: "${ROTAGUARD_S3_ACCESS_KEY_ID:?}" "${ROTAGUARD_S3_SECRET_ACCESS_KEY:?}"
endpoint="${OBJECTSTORE_URL:-http://objectstore:9000}"
policy=rotaguard-backups

tries=0
until mc alias set store "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "createbucket: $endpoint did not answer" >&2; exit 1; }
    sleep 2
done

mc mb --ignore-existing "store/$ROTAGUARD_S3_BUCKET"
# RotaGuard sends SSE-S3 (AES256) with every upload; this makes it the bucket's default too.
mc encrypt set sse-s3 "store/$ROTAGUARD_S3_BUCKET"

printf '%s' "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [
    {\"Effect\": \"Allow\", \"Action\": [\"s3:ListBucket\", \"s3:GetBucketLocation\", \"s3:ListBucketMultipartUploads\"],
     \"Resource\": [\"arn:aws:s3:::$ROTAGUARD_S3_BUCKET\"]},
    {\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\", \"s3:PutObject\", \"s3:DeleteObject\", \"s3:AbortMultipartUpload\", \"s3:ListMultipartUploadParts\"],
     \"Resource\": [\"arn:aws:s3:::$ROTAGUARD_S3_BUCKET/*\"]}
  ]
}" > /tmp/rotaguard-policy.json
mc admin policy create store "$policy" /tmp/rotaguard-policy.json
# Adding an existing user sets its secret key again (a changed secret in .env takes effect).
mc admin user add store "$ROTAGUARD_S3_ACCESS_KEY_ID" "$ROTAGUARD_S3_SECRET_ACCESS_KEY"
case "$(mc admin user info store "$ROTAGUARD_S3_ACCESS_KEY_ID")" in
    *"$policy"*) ;;
    *) mc admin policy attach store "$policy" --user "$ROTAGUARD_S3_ACCESS_KEY_ID" ;;
esac
echo "createbucket: bucket $ROTAGUARD_S3_BUCKET ready for $ROTAGUARD_S3_ACCESS_KEY_ID"
