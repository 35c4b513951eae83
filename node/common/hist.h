/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hist.h - a latency histogram in the style of HdrHistogram: log-linear
 * buckets (HIST_SUB sub-buckets per power of two), so any value is recorded
 * with a relative error under 1/HIST_SUB and percentiles cost no sorting and
 * no memory per sample. Values are unsigned 64-bit (nanoseconds here).
 */
#ifndef FERRY_HIST_H
#define FERRY_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6                  /* 64 sub-buckets: < 1.6% error */
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;               /* values recorded */
	uint64_t min, max;            /* extremes, exact */
	double sum;                   /* for the mean */
	uint64_t b[HIST_BUCKETS];     /* counts per bucket */
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
/* hist_merge - add src into dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/* hist_percentile - the value at or below which p% (0..100) of values lie
 * (the bucket's upper edge, clipped to max); 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);

#endif
