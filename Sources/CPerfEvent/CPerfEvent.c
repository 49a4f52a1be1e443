#include "CPerfEvent.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int cperf_event_open(const struct cperf_event_spec *spec, pid_t pid, int cpu, int group_fd,
                     unsigned long flags, int *error_number) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = spec->type;
    attr.config = spec->config;
    attr.config1 = spec->config1;
    attr.config2 = spec->config2;
    attr.exclude_user = spec->exclude_user ? 1 : 0;
    attr.exclude_kernel = spec->exclude_kernel ? 1 : 0;
    attr.exclude_hv = spec->exclude_hv ? 1 : 0;
    attr.inherit = spec->inherit ? 1 : 0;
    attr.disabled = spec->start_disabled ? 1 : 0;
    if (spec->with_times) {
        attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    }
    long fd = syscall(SYS_perf_event_open, &attr, pid, cpu, group_fd, flags);
    if (fd < 0) {
        if (error_number) *error_number = errno;
        return -1;
    }
    if (error_number) *error_number = 0;
    return (int)fd;
}

int cperf_event_enable(int fd) { return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0); }
int cperf_event_disable(int fd) { return ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); }
int cperf_event_reset(int fd) { return ioctl(fd, PERF_EVENT_IOC_RESET, 0); }
