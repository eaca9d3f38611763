/*
 * What an escaped workflow would try from inside a tenant's container, one attempt per run, as
 * the container's own user. Built statically by the attack suite (tests/docker/attacks.test.ts),
 * so the same binary runs in every image, and copied into the container by the test. Prints one
 * line: "ok <detail>" when the attempt succeeded, "refused <errno name> <detail>" when it did not.
 *
 *   probe status                 CapEff, Seccomp and NoNewPrivs of this process
 *   probe handle <path>          open_by_handle_at relative to <path> ("shocker")
 *   probe write <path>           create a file at <path>
 *   probe connect <ipv4> <port>  a TCP connection (3 s)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int refused(const char *what) {
    int e = errno;
    const char *name = strerrorname_np(e);
    printf("refused %s %s\n", name ? name : "unknown", what);
    return 0;
}

static int status(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return refused("/proc/self/status");
    char line[256];
    printf("ok");
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "CapEff:", 7) || !strncmp(line, "Seccomp:", 8) || !strncmp(line, "NoNewPrivs:", 11)) {
            line[strcspn(line, "\n")] = 0;
            char *value = line + strcspn(line, ":") + 1;
            while (*value == ' ' || *value == '\t') value++;
            line[strcspn(line, ":")] = 0;
            printf(" %s=%s", line, value);
        }
    }
    printf(" uid=%d\n", (int)getuid());
    fclose(f);
    return 0;
}

/*
 * The "shocker" escape: open_by_handle_at with a handle made up rather than asked for
 * (name_to_handle_at needs CAP_SYS_ADMIN under Docker's seccomp profile; the exploit never calls
 * it), relative to a file the host bind-mounts into every container (/etc/hostname), so the handle
 * is looked up in the host's file system. The handle names inode 2, the root folder of an ext4
 * file system. "ok" means the call got past the capability and seccomp checks: it opened the
 * inode, or the file system itself turned the handle down (ESTALE, EINVAL); "refused EPERM" means
 * the kernel or seccomp stopped it first.
 */
static int handle(const char *path) {
    struct file_handle *fh = malloc(sizeof *fh + 8);
    fh->handle_bytes = 8;
    fh->handle_type = 1; /* FILEID_INO32_GEN */
    unsigned int ino_gen[2] = { 2, 0 };
    memcpy(fh->f_handle, ino_gen, sizeof ino_gen);
    int mount_fd = open(path, O_RDONLY);
    if (mount_fd < 0) return refused("open");
    int fd = open_by_handle_at(mount_fd, fh, O_RDONLY);
    if (fd >= 0) {
        printf("ok open_by_handle_at opened inode 2 of the file system of %s\n", path);
        close(fd);
        return 0;
    }
    if (errno == EPERM) return refused("open_by_handle_at");
    const char *name = strerrorname_np(errno);
    printf("ok open_by_handle_at passed the privilege checks; the file system answered %s\n", name ? name : "an error");
    return 0;
}

static int write_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return refused(path);
    printf("ok created %s\n", path);
    close(fd);
    unlink(path);
    return 0;
}

static int tcp(const char *address, const char *port) {
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port)) };
    if (inet_pton(AF_INET, address, &to.sin_addr) != 1) {
        errno = EINVAL;
        return refused("address");
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0) return refused("socket");
    if (connect(s, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) return refused("connect");
    struct pollfd p = { .fd = s, .events = POLLOUT };
    int ready = poll(&p, 1, 3000);
    if (ready == 0) {
        errno = ETIMEDOUT;
        return refused("connect (no answer within 3 s)");
    }
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
        errno = error;
        return refused("connect");
    }
    printf("ok connected to %s:%s\n", address, port);
    close(s);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "status")) return status();
    if (argc >= 3 && !strcmp(argv[1], "handle")) return handle(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "write")) return write_file(argv[2]);
    if (argc >= 4 && !strcmp(argv[1], "connect")) return tcp(argv[2], argv[3]);
    fprintf(stderr, "usage: probe status | handle <path> | write <path> | connect <ipv4> <port>\n");
    return 2;
}
