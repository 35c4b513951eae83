/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opt.h - table-driven command-line options.
 *
 * Each subcommand describes its options in a table of struct opt_def; one
 * parser handles --name VALUE, --name=VALUE, -x VALUE, flags, typed values
 * (sizes such as 4k/1m/2g, durations such as 250ms/3s), --help, and the
 * positional arguments. Errors name the problem in one line.
 */
#ifndef FERRY_OPT_H
#define FERRY_OPT_H

#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_FLAG,     /* int: set to 1 when present */
	OPT_STR,      /* const char *: the argument */
	OPT_U32,      /* uint32_t: decimal or 0x hex */
	OPT_U64,      /* uint64_t */
	OPT_SIZE,     /* uint64_t bytes: 4096, 4k, 1m, 2g (binary units) */
	OPT_MS,       /* uint32_t milliseconds: 250ms, 3s, 2m; bare numbers are ms */
	OPT_DOUBLE,   /* double */
};

struct opt_def {
	const char *name;    /* long name without "--" */
	char short_name;     /* 0 if none */
	enum opt_type type;  /* how to parse and store */
	void *dst;           /* where the value goes */
	const char *metavar; /* shown in usage, e.g. "ADDR:PORT" */
	const char *help;    /* one line */
	int *seen;           /* optional: set to 1 when given */
};

struct cmd_def {
	const char *name;    /* subcommand name, e.g. "put" */
	const char *args;    /* positional synopsis, e.g. "FILE NAME" */
	const char *summary; /* one line for ferry --help */
	int min_args;        /* positional count bounds */
	int max_args;
	const struct opt_def *opts; /* terminated by an entry with name == NULL */
	int (*run)(int argc, char **argv); /* positional args only */
};

/*
 * opt_parse - parse argv (argv[0] is the subcommand) against cmd->opts.
 * Positional arguments are collected into *pos / *npos (pointing into argv).
 * Returns 0 on success, 1 when --help was printed (caller exits 0),
 * -EINVAL after printing a one-line error to stderr.
 */
int opt_parse(const struct cmd_def *cmd, int argc, char **argv, char ***pos, int *npos);

/* opt_usage - print the usage of one command. */
void opt_usage(const struct cmd_def *cmd, FILE *f);

/* opt_parse_size / opt_parse_ms - the value parsers (exposed for reuse). */
int opt_parse_size(const char *s, uint64_t *out);
int opt_parse_ms(const char *s, uint32_t *out);
int opt_parse_u64(const char *s, uint64_t *out);

#endif
