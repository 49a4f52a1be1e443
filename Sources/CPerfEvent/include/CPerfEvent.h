#ifndef CPERFEVENT_H
#define CPERFEVENT_H
// Only what Swift cannot call: the perf_event_open syscall (no libc wrapper) and the variadic ioctl
// with the PERF_EVENT_IOC_* request macros. Swift fills this plain struct instead of the kernel's
// perf_event_attr, whose bitfields and cross-module identity are awkward from Swift.
#include <stdint.h>
#include <sys/types.h>

struct cperf_event_spec {
    uint32_t type;
    uint64_t config;
    uint64_t config1;
    uint64_t config2;
    int exclude_user;
    int exclude_kernel;
    int exclude_hv;
    int inherit;          // count threads created after opening, too
    int start_disabled;   // open disabled; enable with cperf_event_enable
    int with_times;       // read format adds TOTAL_TIME_ENABLED and TOTAL_TIME_RUNNING
};

/// Returns the new file descriptor, or -1 with *error_number set to errno.
int cperf_event_open(const struct cperf_event_spec *spec, pid_t pid, int cpu, int group_fd,
                     unsigned long flags, int *error_number);

/// 0 on success, -1 with errno set.
int cperf_event_enable(int fd);
int cperf_event_disable(int fd);
int cperf_event_reset(int fd);

#endif
