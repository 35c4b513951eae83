/* SPDX-License-Identifier: Apache-2.0 */
#include "common/opt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int opt_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int opt_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int opt_parse_ms(const char *s, uint32_t *out)
{
	char *end;
	double v;
	double mult = 1;

	/* Digits and one point only: strtod alone would take "nan", "inf"
	 * and hex. */
	if (!*s || (!isdigit((unsigned char)*s) && *s != '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v != v)
		return -EINVAL;
	for (const char *p = s; p < end; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
	if (strcmp(end, "ms") == 0 || *end == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60000;
	else
		return -EINVAL;
	v *= mult;
	if (v < 0 || v > 4294967295.0)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static const char *opt_type_meta(enum opt_type t)
{
	switch (t) {
	case OPT_FLAG: return "";
	case OPT_STR: return "STR";
	case OPT_U32: case OPT_U64: return "N";
	case OPT_SIZE: return "SIZE";
	case OPT_MS: return "TIME";
	case OPT_DOUBLE: return "X";
	}
	return "?";
}

void opt_usage(const struct cmd_def *cmd, FILE *f)
{
	fprintf(f, "usage: ferry %s [OPTIONS]%s%s\n", cmd->name, cmd->args ? " " : "",
		cmd->args ? cmd->args : "");
	fprintf(f, "%s\n\noptions:\n", cmd->summary);
	for (const struct opt_def *o = cmd->opts; o && o->name; o++) {
		char lhs[64];
		const char *meta = o->metavar ? o->metavar : opt_type_meta(o->type);

		snprintf(lhs, sizeof(lhs), "%s%c%s--%s%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
			 o->name, *meta ? " " : "", meta);
		fprintf(f, "  %-30s %s\n", lhs + (o->short_name ? 0 : 1), o->help);
	}
	fprintf(f, "  %-30s %s\n", "-h, --help", "show this help");
}

static const struct opt_def *opt_find_long(const struct opt_def *opts, const char *name, size_t len)
{
	for (const struct opt_def *o = opts; o && o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const struct opt_def *opt_find_short(const struct opt_def *opts, char c)
{
	for (const struct opt_def *o = opts; o && o->name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

static int opt_store(const struct cmd_def *cmd, const struct opt_def *o, const char *val)
{
	int err = 0;
	uint64_t u;

	switch (o->type) {
	case OPT_FLAG:
		*(int *)o->dst = 1;
		break;
	case OPT_STR:
		*(const char **)o->dst = val;
		break;
	case OPT_U32:
		err = opt_parse_u64(val, &u);
		if (!err && u > UINT32_MAX)
			err = -ERANGE;
		if (!err)
			*(uint32_t *)o->dst = (uint32_t)u;
		break;
	case OPT_U64:
		err = opt_parse_u64(val, (uint64_t *)o->dst);
		break;
	case OPT_SIZE:
		err = opt_parse_size(val, (uint64_t *)o->dst);
		break;
	case OPT_MS:
		err = opt_parse_ms(val, (uint32_t *)o->dst);
		break;
	case OPT_DOUBLE: {
		char *end;
		errno = 0;
		double d = strtod(val, &end);
		if (errno || end == val || *end)
			err = -EINVAL;
		else
			*(double *)o->dst = d;
		break;
	}
	}
	if (err) {
		fprintf(stderr, "ferry %s: invalid value '%s' for --%s\n", cmd->name, val, o->name);
		return -EINVAL;
	}
	if (o->seen)
		*o->seen = 1;
	return 0;
}

int opt_parse(const struct cmd_def *cmd, int argc, char **argv, char ***pos, int *npos)
{
	int n = 0;
	int only_pos = 0;

	/* Positional arguments are compacted into argv[1..n]: they always fit. */
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct opt_def *o = NULL;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || a[1] == 0) {
			argv[1 + n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			opt_usage(cmd, stdout);
			return 1;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

			o = opt_find_long(cmd->opts, a + 2, len);
			if (eq)
				val = eq + 1;
		} else if (a[2] == 0) {
			o = opt_find_short(cmd->opts, a[1]);
		}
		if (!o) {
			fprintf(stderr, "ferry %s: unknown option '%s' (see ferry %s --help)\n",
				cmd->name, a, cmd->name);
			return -EINVAL;
		}
		if (o->type == OPT_FLAG) {
			if (val) {
				fprintf(stderr, "ferry %s: --%s takes no value\n", cmd->name, o->name);
				return -EINVAL;
			}
		} else if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ferry %s: --%s needs a value\n", cmd->name, o->name);
				return -EINVAL;
			}
			val = argv[++i];
		}
		if (opt_store(cmd, o, val))
			return -EINVAL;
	}
	if (n < cmd->min_args || (cmd->max_args >= 0 && n > cmd->max_args)) {
		fprintf(stderr, "ferry %s: expected %s%s (see ferry %s --help)\n", cmd->name,
			cmd->args && *cmd->args ? "arguments " : "no arguments",
			cmd->args ? cmd->args : "", cmd->name);
		return -EINVAL;
	}
	*pos = argv + 1;
	*npos = n;
	return 0;
}
