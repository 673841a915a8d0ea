#!/usr/bin/env bash
# Mount the EFS file system holding the compiled data at EFS_MOUNT_DIR (with TLS), before the
# new application version starts. Idempotent: an existing mount is left as it is.
# EFS_FILE_SYSTEM_ID and EFS_MOUNT_DIR come from the environment properties set by
# .ebextensions/01-options.config (read with get-config when not already in the environment).
set -euo pipefail

GET_CONFIG="${EB_GET_CONFIG:-/opt/elasticbeanstalk/bin/get-config}"

log() { echo "mount-efs: $*"; }
die() {
    echo "mount-efs: ERROR: $*" >&2
    exit 1
}

# The value of environment property $1: from the process environment, else from get-config.
property() {
    local name="$1"
    if [[ -n "${!name:-}" ]]; then
        printf '%s' "${!name}"
    elif [[ -x "$GET_CONFIG" ]]; then
        "$GET_CONFIG" environment -k "$name" 2>/dev/null || true
    fi
}

fs_id="$(property EFS_FILE_SYSTEM_ID)"
mount_dir="$(property EFS_MOUNT_DIR)"
mount_dir="${mount_dir:-/efs_data}"

[[ -n "$fs_id" ]] || die "EFS_FILE_SYSTEM_ID is not set; set efs_file_system_id in ctsite.toml and redeploy"
[[ "$fs_id" =~ ^fs-[0-9a-f]+$ ]] || die "EFS_FILE_SYSTEM_ID '$fs_id' is not an EFS file system id (fs-...)"
[[ "$mount_dir" == /* ]] || die "EFS_MOUNT_DIR '$mount_dir' must be an absolute path"

if mountpoint -q "$mount_dir"; then
    log "$mount_dir is already mounted; nothing to do"
    exit 0
fi

# Amazon Linux 2023 installs packages with dnf (Amazon Linux 2 had yum).
installer=yum
command -v dnf >/dev/null 2>&1 && installer=dnf
log "installing amazon-efs-utils with $installer"
"$installer" install -y -q amazon-efs-utils || die "could not install amazon-efs-utils with $installer"

mkdir -p "$mount_dir" || die "could not create the mount directory $mount_dir"

log "mounting $fs_id at $mount_dir (TLS)"
if ! mount -t efs -o tls,_netdev "$fs_id:/" "$mount_dir"; then
    die "mounting $fs_id at $mount_dir failed; check that the file system exists in this region, \
has a mount target in the instance's availability zone, and that its security group allows NFS \
(TCP 2049) from the instance"
fi

mountpoint -q "$mount_dir" || die "mount reported success but $mount_dir is not a mount point"
log "mounted $fs_id at $mount_dir"
