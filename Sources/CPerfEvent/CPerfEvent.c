#include "CPerfEvent.h"
int cperf_placeholder(void) { return 0; }
