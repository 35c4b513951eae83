/* SPDX-License-Identifier: Apache-2.0 */
/* test_hist - percentiles from the log-linear histogram are within its
 * stated relative error of the exact ones. */
#include <stdlib.h>

#include "common/hist.h"
#include "lib/test.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	static struct hist h, h2;
	enum { N = 100000 };
	static uint64_t v[N];
	const double ps[] = { 1, 50, 90, 99, 99.9, 100 };

	hist_init(&h);
	CHECK_EQ(hist_percentile(&h, 50), 0);
	srand(7);
	for (int i = 0; i < N; i++) {
		/* a long-tailed mix, like latencies: 20 us .. 50 ms */
		v[i] = 20000 + (uint64_t)rand() % 80000;
		if (i % 100 == 0)
			v[i] *= 500;
		hist_record(&h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		size_t idx = (size_t)(ps[k] / 100.0 * N + 0.999999) - 1;
		double exact = (double)v[idx], got = (double)hist_percentile(&h, ps[k]);
		CHECK(got >= exact * 0.98 && got <= exact * 1.02);
	}
	CHECK_EQ(hist_percentile(&h, 0), v[0]);
	CHECK_EQ(h.max, v[N - 1]);
	/* Small values are exact; merging adds. */
	hist_init(&h2);
	for (uint64_t i = 0; i < 64; i++)
		hist_record(&h2, i);
	CHECK_EQ(hist_percentile(&h2, 50), 31);
	hist_merge(&h2, &h);
	CHECK_EQ(h2.count, N + 64);
	CHECK_EQ(h2.min, 0);
	hist_record(&h2, UINT64_MAX);
	CHECK_EQ(hist_percentile(&h2, 100), UINT64_MAX);
	return test_done();
}
