/*
 * The spool's files: opening the spool itself (a regular file of ours or a new one, never a
 * link, FIFO, device or directory; locked against a second opener), temporary files for
 * compaction and the quarantine file (created exclusively, 0600, never through a symbolic
 * link), and the descriptors a forked child lets go of.
 */
#include "spool_internal.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a regular file";
}

static cio_status_t not_a_file(const char *path, mode_t mode) {
    if (S_ISLNK(mode))
        return cio__fail(CIO_E_CONFIG,
                         "pipeline: spool_path %s is a symbolic link (refused: compaction replaces "
                         "the file by rename, which would replace the link; pass its target)",
                         path);
    return cio__fail(CIO_E_CONFIG,
                     "pipeline: spool_path %s is %s, not a regular file (refused, left as it is)",
                     path, kind_of(mode));
}

cio_status_t cio__spool_open(const char *path, int *fd_out, off_t *size, bool *created) {
    *fd_out = -1;
    *created = false;
    for (int attempt = 0; attempt < 3; attempt++) {
        struct stat before, st;
        int fd;
        bool made = false;
        /* lstat first: a device or FIFO is never even opened (opening some devices acts) */
        if (lstat(path, &before) == 0) {
            if (!S_ISREG(before.st_mode))
                return not_a_file(path, before.st_mode);
            fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        } else if (errno == ENOENT) {
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd < 0 && errno == EEXIST)
                continue; /* made by someone else meanwhile: look again */
            made = true;
        } else {
            return cio__fail(CIO_E_CONFIG, "pipeline: cannot open the spool file %s (%s)", path,
                             strerror(errno));
        }
        if (fd < 0) {
            int e = errno;
            if (e == ELOOP) /* swapped for a link since lstat */
                return not_a_file(path, S_IFLNK);
            return cio__fail(CIO_E_CONFIG, "pipeline: cannot open the spool file %s (%s)", path,
                             strerror(e));
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            mode_t mode = st.st_mode;
            close(fd);
            return not_a_file(path, mode);
        }
        if (!made && (st.st_dev != before.st_dev || st.st_ino != before.st_ino)) {
            close(fd); /* replaced between lstat and open */
            continue;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return cio__fail(CIO_E_CONFIG,
                                 "pipeline: the spool file %s is in use by another pipeline (it "
                                 "is locked; one pipeline per spool file, in this process or "
                                 "another)",
                                 path);
            return cio__fail(CIO_E_CONFIG, "pipeline: cannot lock the spool file %s (%s)", path,
                             strerror(e));
        }
        /* The holder we waited on may have compacted (renamed a new file over the path) just
         * before letting go: then this lock is on a file nobody uses any more. */
        struct stat now;
        if (lstat(path, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
            close(fd);
            continue;
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0)
            (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        *fd_out = fd;
        *size = st.st_size;
        *created = made;
        return CIO_OK;
    }
    return cio__fail(CIO_E_CONFIG,
                     "pipeline: cannot open the spool file %s (it keeps changing under us)", path);
}

int cio__spool_open_temp(const char *tmp_path) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(tmp_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        /* A stale one (a crash during compaction), or something planted there: unlink removes
         * the name only (a link is not followed), and O_EXCL makes sure the next one is ours. */
        if (unlink(tmp_path) != 0) {
            errno = EEXIST;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

int cio__spool_open_quarantine(const char *path) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

bool cio__spool_pwritev_all(int fd, struct iovec *iov, int iovcnt, off_t off) {
    while (iovcnt > 0) {
        ssize_t n = pwritev(fd, iov, iovcnt, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0) {
            errno = ENOSPC;
            return false;
        }
        off += n;
        /* a short write: go on with what is left (the next call says why if it fails) */
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return true;
}

void cio__spool_sync_dir(const char *path) {
    char *copy = strdup(path);
    if (copy == NULL)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

/* ---------------------------------------------------------------- fork */

/* A forked child inherits the spool's descriptor, and with it a share of the parent's flock:
 * were it kept, the lock would outlive the parent's pipeline while the child lives. The child
 * cannot use the parent's pipeline anyway (pipeline.h), so it closes them. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static spool_fds_t *registry;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static void before_fork(void) {
    pthread_mutex_lock(&registry_lock);
}

static void after_fork_in_parent(void) {
    pthread_mutex_unlock(&registry_lock);
}

static void after_fork_in_child(void) {
    for (spool_fds_t *f = registry; f != NULL; f = f->next) {
        if (f->fd >= 0)
            close(f->fd);
        if (f->tmp_fd >= 0)
            close(f->tmp_fd);
        f->fd = f->tmp_fd = -1;
    }
    registry = NULL; /* the child's copies of these spools are never used again */
    pthread_mutex_unlock(&registry_lock); /* taken by before_fork, in this very thread */
}

static void registry_init(void) {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

void cio__spool_register(spool_fds_t *fds) {
    pthread_once(&registry_once, registry_init);
    pthread_mutex_lock(&registry_lock);
    fds->next = registry;
    registry = fds;
    pthread_mutex_unlock(&registry_lock);
}

void cio__spool_unregister(spool_fds_t *fds) {
    pthread_mutex_lock(&registry_lock);
    for (spool_fds_t **p = &registry; *p != NULL; p = &(*p)->next) {
        if (*p == fds) {
            *p = fds->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

void cio__spool_set_fds(spool_fds_t *fds, int fd, int tmp_fd) {
    pthread_mutex_lock(&registry_lock);
    fds->fd = fd;
    fds->tmp_fd = tmp_fd;
    pthread_mutex_unlock(&registry_lock);
}
