/*
 * pairs: time two commands in alternation, for paired wall-time ratios.
 *
 *   gcc -O2 -o pairs pairs.c && ./pairs N -- [VAR=VAL...] cmdA args... -- [VAR=VAL...] cmdB args...
 *
 * VAR=VAL words before a command are added to that command's environment
 * only, as env(1) would, without the cost of exec'ing env.
 * Runs A, B, A, B, ... N times each (after 5 unmeasured runs of each) and
 * prints one line per pair: "nsA nsB". Each run is timed from just before
 * posix_spawn to the return of waitpid, with stdout and stderr sent to
 * /dev/null. Spawning from this small C program instead of Python keeps the
 * launcher's own cost (fork of a 20 MiB interpreter) out of a measurement
 * of a command that takes a third of a millisecond. Alternating puts both
 * commands under the same machine load, so the per-pair ratio is fair on a
 * shared machine even when the absolute times drift.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A command: its argv and its environment (ours plus its VAR=VAL words). */
struct command {
    char **argv;
    char **envp;
};

static struct command command(char **words) {
    struct command c;
    size_t extra = 0, ours = 0;
    while (words[extra] && strchr(words[extra], '=') && words[extra][0] != '/')
        extra++;
    while (environ[ours])
        ours++;
    c.envp = calloc(extra + ours + 1, sizeof *c.envp);
    if (!c.envp) {
        perror("calloc");
        exit(2);
    }
    memcpy(c.envp, words, extra * sizeof *words);
    memcpy(c.envp + extra, environ, ours * sizeof *environ);
    c.argv = words + extra;
    return c;
}

static long long run_ns(struct command c, posix_spawn_file_actions_t *io) {
    char **argv = c.argv;
    struct timespec a, b;
    pid_t pid;
    int status;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (posix_spawn(&pid, argv[0], io, NULL, argv, c.envp) != 0) {
        perror(argv[0]);
        exit(2);
    }
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        exit(2);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "pairs: %s failed (status %d)\n", argv[0], status);
        exit(1);
    }
    return (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
}

int main(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: pairs N -- cmdA args... -- cmdB args...\n");
        return 2;
    }
    int n = atoi(argv[1]);
    char **first = argv + 3, **second = NULL;
    for (int i = 3; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            argv[i] = NULL;
            second = argv + i + 1;
            break;
        }
    if (n <= 0 || second == NULL || second[0] == NULL) {
        fprintf(stderr, "usage: pairs N -- cmdA args... -- cmdB args...\n");
        return 2;
    }
    struct command a = command(first), b = command(second);
    if (!a.argv[0] || !b.argv[0]) {
        fprintf(stderr, "usage: pairs N -- cmdA args... -- cmdB args...\n");
        return 2;
    }
    posix_spawn_file_actions_t io;
    posix_spawn_file_actions_init(&io);
    posix_spawn_file_actions_addopen(&io, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&io, 2, "/dev/null", O_WRONLY, 0);
    for (int i = 0; i < 5; i++) {
        run_ns(a, &io);
        run_ns(b, &io);
    }
    for (int i = 0; i < n; i++) {
        long long ta = run_ns(a, &io);
        long long tb = run_ns(b, &io);
        printf("%lld %lld\n", ta, tb);
    }
    return 0;
}
