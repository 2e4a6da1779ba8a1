#!/usr/bin/python3
"""A slow under store for tools/bench's cache workload: a FUSE passthrough of BACKING at MOUNTPOINT
that sleeps LATENCY_MS before each lookup (getattr), open, create, read and readdir, as a store
across a network answers each with a round trip. Writes, renames and unlinks pass at local speed.

The kernel keeps attributes and names ATTR_CACHE_S seconds (default 0: nothing), as a network
filesystem's client does (NFS's actimeo, FUSE's own default of 1 s); the page cache of a file is
dropped at each open, so every read of data through it pays the latency again.

    slowfs.py BACKING MOUNTPOINT LATENCY_MS [ATTR_CACHE_S]   (foreground; unmount with umount or fusermount -u)
    slowfs.py --check                          (exit 0 when fusepy can be imported)

Needs fusepy (Debian's python3-fusepy, which loads libfuse2) and /dev/fuse; run as root.
"""
import os
import sys
import time

try:
    from fusepy import FUSE, Operations  # Debian's python3-fusepy
except ImportError:
    try:
        from fuse import FUSE, Operations  # fusepy from PyPI
    except ImportError:
        FUSE = Operations = None

STAT_FIELDS = ('st_mode', 'st_ino', 'st_dev', 'st_nlink', 'st_uid', 'st_gid', 'st_size',
               'st_atime', 'st_mtime', 'st_ctime', 'st_blocks', 'st_blksize')


class SlowPassthrough(Operations or object):
    use_ns = True  # times in nanoseconds, so mtimes pass through exactly

    def __init__(self, backing, latency_s):
        self.backing = backing
        self.latency_s = latency_s

    def _path(self, path):
        return os.path.join(self.backing, path.lstrip('/'))

    def _wait(self):
        if self.latency_s > 0:
            time.sleep(self.latency_s)

    # What a remote store answers with a round trip: slow.
    def getattr(self, path, fh=None):
        self._wait()
        # fh: the open file's fuse_file_info for an fstat, else None (or a NULL pointer): falsy.
        st = os.fstat(fh.fh) if fh else os.lstat(self._path(path))
        attrs = {k: getattr(st, k) for k in STAT_FIELDS if not k.endswith('time')}
        for k in ('st_atime', 'st_mtime', 'st_ctime'):
            attrs[k] = getattr(st, k + '_ns')
        return attrs

    def open(self, path, fi):
        self._wait()
        fi.fh = os.open(self._path(path), fi.flags)
        return 0

    def create(self, path, mode, fi):
        self._wait()
        fi.fh = os.open(self._path(path), fi.flags | os.O_CREAT, mode)
        return 0

    def read(self, path, size, offset, fi):
        self._wait()
        return os.pread(fi.fh, size, offset)

    def readdir(self, path, fh):
        self._wait()
        return ['.', '..'] + os.listdir(self._path(path))

    # The rest passes at local speed.
    def write(self, path, data, offset, fi):
        return os.pwrite(fi.fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh:
            os.ftruncate(fh.fh, length)
        else:
            os.truncate(self._path(path), length)

    def flush(self, path, fi):
        return 0

    def release(self, path, fi):
        os.close(fi.fh)

    def fsync(self, path, datasync, fi):
        (os.fdatasync if datasync else os.fsync)(fi.fh)

    def fsyncdir(self, path, datasync, fh):
        fd = os.open(self._path(path), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def access(self, path, amode):
        if not os.access(self._path(path), amode):
            raise OSError(13, 'Permission denied')

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def rmdir(self, path):
        os.rmdir(self._path(path))

    def unlink(self, path):
        os.unlink(self._path(path))

    def rename(self, old, new):
        os.rename(self._path(old), self._path(new))

    def link(self, target, source):
        os.link(self._path(source), self._path(target))

    def symlink(self, target, source):
        os.symlink(source, self._path(target))

    def readlink(self, path):
        return os.readlink(self._path(path))

    def mknod(self, path, mode, dev):
        os.mknod(self._path(path), mode, dev)

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._path(path), uid, gid)

    def utimens(self, path, times=None):
        if times is None:
            os.utime(self._path(path))
        else:
            os.utime(self._path(path), ns=times)

    def statfs(self, path):
        sv = os.statvfs(self._path(path))
        return {k: getattr(sv, k) for k in ('f_bsize', 'f_frsize', 'f_blocks', 'f_bfree', 'f_bavail',
                                            'f_files', 'f_ffree', 'f_favail', 'f_flag', 'f_namemax')}


def main():
    if sys.argv[1:] == ['--check']:
        sys.exit(0 if FUSE is not None else 1)
    if FUSE is None:
        sys.stderr.write('slowfs.py: fusepy is not installed (apt-get install -y python3-fusepy fuse3)\n')
        sys.exit(1)
    if len(sys.argv) not in (4, 5):
        sys.stderr.write(__doc__)
        sys.exit(2)
    backing, mountpoint, latency_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
    attr_cache_s = float(sys.argv[4]) if len(sys.argv) == 5 else 0.0
    FUSE(SlowPassthrough(os.path.realpath(backing), latency_ms / 1000), mountpoint,
         raw_fi=True, foreground=True, nothreads=False, fsname='slowfs', subtype='slowfs',
         use_ino=True, attr_timeout=attr_cache_s, entry_timeout=attr_cache_s, negative_timeout=0,
         big_writes=True, max_read=131072)


if __name__ == '__main__':
    main()
