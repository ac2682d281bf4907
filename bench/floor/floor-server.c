/* The physical floor for a request/response round trip on loopback (issue 22 point 4): one epoll loop, one recv and
 * one send per readiness, nothing else. It speaks just enough of protocol.md §1-2 for qkchat-loadgen's heartbeat
 * scenario to count its answers: each 4-byte big-endian length-prefixed frame is answered with
 * {"request_id":"<echoed>","success":true}. No JSON parser, no allocation per request, no timers: whatever qkchatd
 * spends per heartbeat above this server's CPU per round trip is our own work.
 *   gcc -O2 -o floor-server floor-server.c && ./floor-server PORT SECONDS
 * Binds 127.0.0.1 only and exits by itself after SECONDS. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 65536
#define BUF 65536 /* one read's worth: the loadgen pipelines at most a few small requests per connection */

struct conn { unsigned char *in; size_t used; };
static struct conn conns[MAX_FDS];

static size_t answer(const unsigned char *body, size_t len, unsigned char *out) {
    static const char key[] = "\"request_id\":\"";
    const unsigned char *id = NULL, *end = body + len;
    size_t k = sizeof key - 1;
    for (const unsigned char *p = body; p + k <= end; p++)
        if (memcmp(p, key, k) == 0) { id = p + k; break; }
    size_t idlen = 0;
    if (id) while (id + idlen < end && id[idlen] != '"') idlen++;
    size_t n = 0;
    unsigned char *b = out + 4;
    memcpy(b + n, "{\"request_id\":\"", 15); n += 15;
    if (id) { memcpy(b + n, id, idlen); n += idlen; }
    memcpy(b + n, "\",\"success\":true}", 17); n += 17;
    out[0] = n >> 24; out[1] = n >> 16; out[2] = n >> 8; out[3] = n;
    return n + 4;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: floor-server PORT SECONDS\n"); return 2; }
    int port = atoi(argv[1]);
    time_t until = time(NULL) + atoi(argv[2]);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) { perror("listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls }, evs[512];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static unsigned char out[BUF * 2];
    while (time(NULL) < until) {
        int n = epoll_wait(ep, evs, 512, 1000);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAX_FDS) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[c].in = malloc(BUF); conns[c].used = 0;
                    struct epoll_event ce = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            struct conn *cn = &conns[fd];
            ssize_t r = recv(fd, cn->in + cn->used, BUF - cn->used, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                close(fd); free(cn->in); cn->in = NULL; continue;
            }
            cn->used += r;
            size_t off = 0, w = 0;
            while (cn->used - off >= 4) {
                const unsigned char *h = cn->in + off;
                size_t len = ((size_t)h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
                if (len + 4 > BUF) { cn->used = off = 0; break; } /* larger than a heartbeat: not this server's job */
                if (cn->used - off < len + 4) break;
                w += answer(h + 4, len, out + w);
                off += len + 4;
            }
            memmove(cn->in, cn->in + off, cn->used - off);
            cn->used -= off;
            /* A short send would drop answers; a few ~40-byte answers never fill a loopback socket buffer. */
            if (w && send(fd, out, w, MSG_NOSIGNAL) < 0 && errno != EAGAIN) { close(fd); free(cn->in); cn->in = NULL; }
        }
    }
    return 0;
}
