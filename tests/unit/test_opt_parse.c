/* SPDX-License-Identifier: Apache-2.0 */
/* test_opt_parse - table-driven options: values, units, errors, positionals. */
#include <errno.h>
#include <string.h>

#include "common/opt.h"
#include "lib/test.h"

static const char *s_opt;
static uint64_t size_opt;
static uint32_t ms_opt, n_opt;
static int flag_opt;

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static const struct opt_def opts[] = {
	{ "str", 's', OPT_STR, &s_opt, "S", "a string", NULL },
	{ "size", 0, OPT_SIZE, &size_opt, "SIZE", "a size", NULL },
	{ "time", 0, OPT_MS, &ms_opt, "T", "a time", NULL },
	{ "num", 'n', OPT_U32, &n_opt, "N", "a number", NULL },
	{ "flag", 'f', OPT_FLAG, &flag_opt, NULL, "a flag", NULL },
	{ 0 },
};
static const struct cmd_def cmd = { "t", "A B", "test", 1, 2, opts, run };

static int parse(const char *line, char ***pos, int *npos)
{
	static char buf[512];
	static char *argv[32];
	int argc = 0;

	s_opt = NULL;
	size_opt = 0;
	ms_opt = n_opt = 0;
	flag_opt = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return opt_parse(&cmd, argc, argv, pos, npos);
}

int main(void)
{
	char **pos;
	int npos;
	uint64_t v;
	uint32_t ms;

	CHECK_EQ(parse("t a --str x --size 4k --time 3s -n 7 -f b", &pos, &npos), 0);
	CHECK_EQ(npos, 2);
	CHECK(strcmp(pos[0], "a") == 0 && strcmp(pos[1], "b") == 0);
	CHECK(s_opt && strcmp(s_opt, "x") == 0);
	CHECK_EQ(size_opt, 4096);
	CHECK_EQ(ms_opt, 3000);
	CHECK_EQ(n_opt, 7);
	CHECK_EQ(flag_opt, 1);
	CHECK_EQ(parse("t --size=1m a", &pos, &npos), 0);
	CHECK_EQ(size_opt, 1 << 20);
	CHECK_EQ(parse("t -- -a", &pos, &npos), 0);
	CHECK(npos == 1 && strcmp(pos[0], "-a") == 0);
	CHECK_EQ(parse("t a --bogus", &pos, &npos), -EINVAL);
	CHECK_EQ(parse("t a --num", &pos, &npos), -EINVAL);
	CHECK_EQ(parse("t a --num x", &pos, &npos), -EINVAL);
	CHECK_EQ(parse("t a --num 4294967296", &pos, &npos), -EINVAL);
	CHECK_EQ(parse("t a --flag=1", &pos, &npos), -EINVAL);
	CHECK_EQ(parse("t", &pos, &npos), -EINVAL);
	CHECK_EQ(parse("t a b c", &pos, &npos), -EINVAL);
	CHECK_EQ(opt_parse_size("2g", &v), 0);
	CHECK_EQ(v, 2ull << 30);
	CHECK_EQ(opt_parse_size("64KiB", &v), 0);
	CHECK_EQ(v, 65536);
	CHECK(opt_parse_size("-1", &v) < 0);
	CHECK(opt_parse_size("1x", &v) < 0);
	CHECK(opt_parse_size("99999999999999t", &v) < 0);
	CHECK_EQ(opt_parse_ms("250ms", &ms), 0);
	CHECK_EQ(ms, 250);
	CHECK_EQ(opt_parse_ms("2m", &ms), 0);
	CHECK_EQ(ms, 120000);
	CHECK(opt_parse_ms("3h", &ms) < 0);
	CHECK_EQ(opt_parse_ms("1.5s", &ms), 0);
	CHECK_EQ(ms, 1500);
	/* strtod would take these; a duration must not */
	CHECK(opt_parse_ms("nan", &ms) < 0);
	CHECK(opt_parse_ms("infs", &ms) < 0);
	CHECK(opt_parse_ms("0x10s", &ms) < 0);
	CHECK(opt_parse_ms("1e3ms", &ms) < 0);
	CHECK(opt_parse_ms(" 5s", &ms) < 0);
	CHECK(opt_parse_ms("-5s", &ms) < 0);
	return test_done();
}
