#ifndef CPERFEVENT_H
#define CPERFEVENT_H
// Placeholder; the telemetry layer fills this in (perf_event_open syscall, ioctl request macros).
int cperf_placeholder(void);
#endif
