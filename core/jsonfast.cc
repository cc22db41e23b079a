// jsonfast.cc - ledger lines read by simdjson's DOM parser into the flat
// field table of jsonfast.h; built as the module wr-jsonfast.so, which
// core/jsonfast_load.c opens when a process has many lines to read. jansson stays the decoder of record: whatever
// simdjson accepts that jansson would not (duplicate keys, \u0000, integers
// beyond int64), or that wr refuses (deep nesting), is left to it.
#include "jsonfast.h"

#include <simdjson.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// One parser and one padded copy of the line per thread, reused.
struct reader {
	simdjson::dom::parser parser;
	char *buf = nullptr;
	size_t cap = 0;
	reader() = default;
	reader(const reader &) = delete;
	reader &operator=(const reader &) = delete;
	~reader() { std::free(buf); }
};

thread_local reader rd;

bool has_nul(std::string_view s)
{
	return std::memchr(s.data(), 0, s.size()) != nullptr;
}

json_t *to_json(element e, int depth, int max_depth);

json_t *object_json(simdjson::dom::object o, int depth, int max_depth)
{
	json_t *j = json_object();
	if (!j)
		return nullptr;
	for (auto kv : o) {
		// simdjson's strings end in a NUL; one inside is refused here
		if (has_nul(kv.key) || json_object_get(j, kv.key.data())) {
			json_decref(j);
			return nullptr;
		}
		json_t *v = to_json(kv.value, depth + 1, max_depth);
		if (!v || json_object_set_new_nocheck(j, kv.key.data(), v) < 0) {
			json_decref(j);
			return nullptr;
		}
	}
	return j;
}

json_t *array_json(simdjson::dom::array a, int depth, int max_depth)
{
	json_t *j = json_array();
	if (!j)
		return nullptr;
	for (element x : a) {
		json_t *v = to_json(x, depth + 1, max_depth);
		if (!v || json_array_append_new(j, v) < 0) {
			json_decref(j);
			return nullptr;
		}
	}
	return j;
}

// e at nesting depth (the line's object is 1) as jansson would read it,
// or NULL.
json_t *to_json(element e, int depth, int max_depth)
{
	switch (e.type()) {
	case element_type::OBJECT:
		return depth > max_depth ? nullptr : object_json(e.get_object().value_unsafe(), depth, max_depth);
	case element_type::ARRAY:
		return depth > max_depth ? nullptr : array_json(e.get_array().value_unsafe(), depth, max_depth);
	case element_type::STRING: {
		std::string_view s = e.get_string().value_unsafe();
		return has_nul(s) ? nullptr : json_stringn_nocheck(s.data(), s.size());
	}
	case element_type::INT64:
		return json_integer(e.get_int64().value_unsafe());
	case element_type::DOUBLE:
		return json_real(e.get_double().value_unsafe());
	case element_type::BOOL:
		return json_boolean(e.get_bool().value_unsafe());
	case element_type::NULL_VALUE:
		return json_null();
	case element_type::UINT64: // beyond int64: jansson reads it otherwise
		break;
	}
	return nullptr;
}

void release(wr_ev_fields *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].kind == WR_JV_JSON)
			json_decref(d->f[i].u.j);
	std::free(d);
}

// Copies s with a NUL to *at; returns the copy.
const char *put(char **at, std::string_view s)
{
	char *p = *at;
	std::memcpy(p, s.data(), s.size());
	p[s.size()] = 0;
	*at = p + s.size() + 1;
	return p;
}

// Whether key is one of d's fields already (simdjson's strings end in a
// NUL, and key has none inside).
bool seen(const wr_ev_fields *d, std::string_view key)
{
	return wr_jv_find(d, key.data(), key.size()) != nullptr;
}

// The value e of one top-level field into v; false when jansson decides.
bool field(wr_jv *v, element e, char **at, int max_depth)
{
	switch (e.type()) {
	case element_type::STRING: {
		std::string_view s = e.get_string().value_unsafe();
		if (has_nul(s))
			return false;
		v->kind = WR_JV_STR;
		v->len = static_cast<uint32_t>(s.size());
		v->u.s = put(at, s);
		return true;
	}
	case element_type::INT64:
		v->kind = WR_JV_INT;
		v->u.i = e.get_int64().value_unsafe();
		return true;
	case element_type::DOUBLE:
		v->kind = WR_JV_REAL;
		v->u.d = e.get_double().value_unsafe();
		return true;
	case element_type::BOOL:
		v->kind = e.get_bool().value_unsafe() ? WR_JV_TRUE : WR_JV_FALSE;
		return true;
	case element_type::NULL_VALUE:
		v->kind = WR_JV_NULL;
		return true;
	case element_type::OBJECT:
	case element_type::ARRAY:
		v->kind = WR_JV_JSON;
		v->u.j = to_json(e, 2, max_depth);
		return v->u.j != nullptr;
	case element_type::UINT64:
		break;
	}
	return false;
}

} // namespace

extern "C" __attribute__((visibility("default"))) unsigned long wr_jsonfast_abi(void)
{
	return WR_JSONFAST_ABI;
}

extern "C" __attribute__((visibility("default"))) struct wr_ev_fields *wr_jsonfast_read(const char *line, size_t len,
											int max_depth)
{
	if (len > WR_JSONFAST_MAX)
		return nullptr;
	size_t need = len + simdjson::SIMDJSON_PADDING;
	if (rd.cap < need) {
		char *b = static_cast<char *>(std::realloc(rd.buf, need));
		if (!b)
			return nullptr;
		rd.buf = b;
		rd.cap = need;
	}
	std::memcpy(rd.buf, line, len);
	std::memset(rd.buf + len, 0, simdjson::SIMDJSON_PADDING);
	element root;
	simdjson::dom::object o;
	if (rd.parser.parse(rd.buf, len, false).get(root) || root.get_object().get(o))
		return nullptr;
	size_t n = o.size();
	// Keys and strings unescaped are no longer than the line.
	size_t bytes = sizeof(wr_ev_fields) + n * sizeof(wr_jv) + len + 2 * n + 1;
	auto *d = static_cast<wr_ev_fields *>(std::malloc(bytes));
	if (!d)
		return nullptr;
	d->refs = 1;
	d->obj = nullptr;
	d->n = 0;
	d->f = reinterpret_cast<wr_jv *>(d + 1);
	d->indexed = 1;
	std::memset(d->slot, 0, sizeof d->slot);
	char *at = reinterpret_cast<char *>(d->f + n);
	for (auto kv : o) {
		if (d->n == n || has_nul(kv.key) || seen(d, kv.key)) {
			release(d);
			return nullptr;
		}
		wr_jv *v = &d->f[d->n];
		v->key = put(&at, kv.key);
		v->sig = wr_jv_sig(kv.key.data(), kv.key.size());
		v->len = 0;
		if (!field(v, kv.value, &at, max_depth)) {
			release(d);
			return nullptr;
		}
		d->n++;
		wr_jv_index_last(d);
	}
	if (d->n != n) {
		release(d);
		return nullptr;
	}
	return d;
}
