/* SPDX-License-Identifier: Apache-2.0 */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static log_sink_fn log_sink;
static void *log_sink_arg;
static enum log_level log_level = LOG_LVL_INFO;

void log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_level_parse(const char *s)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];

	if (lvl > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_sink)
		log_sink(lvl, line, log_sink_arg);
	else
		fprintf(stderr, "ferry: %s\n", line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
