/*
 * maxrss: run a command and print its peak resident set size (VmHWM) in KiB.
 *
 * getrusage/wait4's ru_maxrss is no good for small programs: the kernel folds
 * the pre-exec address space into it (exec_mmap records the old mm's
 * high-water mark), so a child of Python reports ~24 MiB and a child of any
 * static C helper at least that helper's ~0.5 MiB. Instead the command runs
 * under ptrace, stops at exit (PTRACE_O_TRACEEXIT), and VmHWM of its own
 * address space is read from /proc/PID/status before it goes away.
 *
 *   gcc -O2 -o maxrss maxrss.c && ./maxrss cmd args...
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static long vm_hwm_kib(pid_t pid) {
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: maxrss COMMAND [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execvp(argv[1], argv + 1);
        perror("execvp");
        _exit(127);
    }
    int status;
    long peak = -1;
    /* The first stop is the SIGTRAP of the successful exec. */
    if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) return 127;
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXIT);
    ptrace(PTRACE_CONT, pid, 0, 0);
    while (waitpid(pid, &status, 0) == pid) {
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        int sig = 0;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
            peak = vm_hwm_kib(pid);
        else if (WIFSTOPPED(status))
            sig = WSTOPSIG(status); /* pass real signals through */
        ptrace(PTRACE_CONT, pid, 0, sig);
    }
    printf("%ld\n", peak);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
