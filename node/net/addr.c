/* SPDX-License-Identifier: Apache-2.0 */
/* net_addr helpers: parsing and printing "IP:PORT". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/transport.h"

int net_addr_parse(const char *s, uint16_t default_port, struct net_addr *out)
{
	char host[64];
	const char *port_s = NULL;
	size_t hlen;
	unsigned long port = default_port;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		host[hlen] = 0;
		if (close[1] == ':')
			port_s = close + 2;
		else if (close[1])
			return -EINVAL;
	} else {
		const char *colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL; /* bare IPv6 without brackets: no port */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
		host[hlen] = 0;
		if (colon)
			port_s = colon + 1;
	}
	if (port_s) {
		char *end;
		if (!*port_s)
			return -EINVAL;
		port = strtoul(port_s, &end, 10);
		if (*end || port > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, out->ip) == 1) {
		out->family = AF_INET;
	} else if (inet_pton(AF_INET6, host, out->ip) == 1) {
		out->family = AF_INET6;
	} else {
		return -EINVAL;
	}
	out->port = htons((uint16_t)port);
	return 0;
}

const char *net_addr_format(const struct net_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip));
	if (a->family == AF_INET6)
		snprintf(buf, cap, "[%s]:%u", ip, ntohs(a->port));
	else
		snprintf(buf, cap, "%s:%u", ip, ntohs(a->port));
	return buf;
}

int net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	size_t n = a->family == AF_INET6 ? 16 : 4;

	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}
