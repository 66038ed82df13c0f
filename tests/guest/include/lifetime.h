/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a VFIO user leaves behind, measured from outside it: module
 * references, pages pinned for DMA, free huge pages; and a child process
 * that sets up a resource, says so through a pipe, and is killed.
 */
#ifndef LIFETIME_H
#define LIFETIME_H

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "irqs.h"
#include "pci_test.h"

/* The sum of the reference counts of every loaded vfio* module. */
static inline long vfio_module_refs(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	long sum = 0;
	DIR *dir = opendir("/sys/module");

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/module/%s/refcnt",
			 de->d_name);
		if (!access(path, F_OK))
			sum += (long)sysfs_read_ulong(path);
	}
	closedir(dir);
	return sum;
}

/* A counter of /proc/vmstat or /proc/meminfo ("Name" then a number). */
static inline long proc_counter(const char *file, const char *name)
{
	char line[256];
	size_t len = strlen(name);
	long value = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) &&
		    (line[len] == ' ' || line[len] == ':')) {
			value = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return value;
}

/*
 * Pages pinned with FOLL_PIN and not yet unpinned, system-wide. The
 * counters are folded from per-CPU deltas first: unfolded, they drift
 * by a few pages either way.
 */
static inline long pins_in_flight(void)
{
	sysfs_write("/proc/sys/vm/stat_refresh", "1");
	return proc_counter("/proc/vmstat", "nr_foll_pin_acquired") -
	       proc_counter("/proc/vmstat", "nr_foll_pin_released");
}

static inline long hugepages_free(void)
{
	return proc_counter("/proc/meminfo", "HugePages_Free");
}

/*
 * Run @fn in a child that dies with its parent. @fn writes one long to
 * @wr when its resource is set up (a negative errno if that failed) and
 * then waits to be killed; if it returns, the child exits with its value.
 * Returns the pid, the read end of the pipe in *@rd.
 */
static inline pid_t spawn_user(int (*fn)(void *arg, int wr), void *arg,
			       int *rd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(arg, p[1]));
	}
	close(p[1]);
	*rd = p[0];
	if (pid < 0)
		close(p[0]);
	return pid;
}

static inline void report(int wr, long value)
{
	if (write(wr, &value, sizeof(value)) != sizeof(value))
		_exit(99);
}

/* The child's report, or LONG_MIN after @ms without one. */
static inline long wait_report(int rd, int ms)
{
	struct pollfd p = { .fd = rd, .events = POLLIN };
	long value = LONG_MIN;

	if (poll(&p, 1, ms) != 1 ||
	    read(rd, &value, sizeof(value)) != sizeof(value))
		return LONG_MIN;
	return value;
}

/* SIGKILL the child and reap it; true when it died of that signal. */
static inline bool kill_and_reap(pid_t pid)
{
	int status = 0;

	if (kill(pid, SIGKILL) || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

#endif /* LIFETIME_H */
