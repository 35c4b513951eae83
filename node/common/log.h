/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - the one logging hook.
 *
 * Library code never prints: it calls log_msg() (through the log_err/... macros),
 * and only main() decides where lines go by installing a sink (stderr for the
 * CLI, /dev/kmsg when ferry is PID 1). Without a sink, lines at or above the
 * level go to stderr.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERR = 0,   /* an operation failed; the caller decides what next */
	LOG_LVL_WARN = 1,  /* degraded but going on */
	LOG_LVL_INFO = 2,  /* state changes an operator wants to see */
	LOG_LVL_DEBUG = 3, /* developer detail */
};

/* Receives one formatted line without the trailing newline. */
typedef void (*log_sink_fn)(enum log_level lvl, const char *line, void *arg);

/* log_set_sink - route lines to fn (NULL restores the stderr default). */
void log_set_sink(log_sink_fn fn, void *arg);
/* log_set_level - drop lines less severe than lvl. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* log_level_parse - "err|warn|info|debug" -> level; -EINVAL otherwise. */
int log_level_parse(const char *s);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
