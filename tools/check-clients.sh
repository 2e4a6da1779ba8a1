#!/usr/bin/env bash
# The end-to-end suites drive real clients; say how to get them rather than skip silently.
missing=()
command -v aws >/dev/null 2>&1 || missing+=("aws cli: apt-get install -y awscli")
python3 -c 'import boto3' >/dev/null 2>&1 || missing+=("boto3: apt-get install -y python3-boto3")
command -v curl >/dev/null 2>&1 || missing+=("curl: apt-get install -y curl")
# The load-balancer suite runs its own nginx on loopback (Debian puts it in /usr/sbin).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=("nginx: apt-get install -y nginx")
if [ ${#missing[@]} -gt 0 ]; then
  echo "The end-to-end tests need real S3 clients (and nginx) that are missing here:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
