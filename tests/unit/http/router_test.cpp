// Router: the go-chi v5 matching rules of docs/compatibility.md §3, parameters, percent-decoding,
// and the 404/405 answers.
#include "api/http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace l3afd::api::http {
namespace {

/// A handler answering "<tag>" and recording the request it saw.
Handler tagged(std::string tag, Request* seen = nullptr) {
  return [tag = std::move(tag), seen](const Request& r) {
    if (seen) *seen = r;
    Response res;
    res.body = tag;
    return res;
  };
}

/// The L3AF API routes, as the daemon registers them.
Router l3af_router(Request* seen = nullptr) {
  Router r;
  r.add("POST", "/l3af/configs/{version}/add", tagged("add", seen));
  r.add("POST", "/l3af/configs/{version}/update", tagged("update", seen));
  r.add("POST", "/l3af/configs/{version}/delete", tagged("delete", seen));
  r.add("PUT", "/l3af/configs/{version}/restart", tagged("restart", seen));
  r.add("GET", "/l3af/configs/{version}/{iface}", tagged("get_iface", seen));
  r.add("GET", "/l3af/configs/{version}", tagged("get_all", seen));
  return r;
}

Response call(const Router& r, std::string method, std::string target, Request* req = nullptr) {
  Request local;
  Request& q = req ? *req : local;
  q.method = std::move(method);
  q.target = std::move(target);
  return r.dispatch(q);
}

bool has_header(const Response& r, std::string_view name, std::string_view value) {
  for (const auto& [k, v] : r.headers) {
    if (iequals(k, name) && v == value) return true;
  }
  return false;
}

TEST(Router, RoutesStaticSegmentsByMethodAndCapturesVersion) {
  Request seen;
  const Router r = l3af_router(&seen);
  for (const char* op : {"add", "update", "delete"}) {
    const Response res = call(r, "POST", std::string("/l3af/configs/v2/") + op);
    EXPECT_EQ(res.status, 200) << op;
    EXPECT_EQ(res.body, op);
    EXPECT_EQ(seen.params.at("version"), "v2");
    EXPECT_EQ(seen.params.count("iface"), 0u);
  }
  EXPECT_EQ(call(r, "PUT", "/l3af/configs/whatever/restart").body, "restart");
  EXPECT_EQ(seen.params.at("version"), "whatever");
}

TEST(Router, TheMatchedPatternIsTheRequestsRouteAndUnmatchedHaveNone) {
  Router r = l3af_router();
  Request q;
  ASSERT_EQ(call(r, "GET", "/l3af/configs/v1/veth0", &q).status, 200);
  EXPECT_EQ(q.route, "/l3af/configs/{version}/{iface}");
  ASSERT_EQ(call(r, "POST", "/l3af/configs/v1/add", &q).status, 200);
  EXPECT_EQ(q.route, "/l3af/configs/{version}/add");
  ASSERT_EQ(call(r, "GET", "/nothing/here", &q).status, 404);
  EXPECT_EQ(q.route, "");
  ASSERT_EQ(call(r, "DELETE", "/l3af/configs/v1/add", &q).status, 405);
  EXPECT_EQ(q.route, "");
  Router star;
  star.add("GET", "/bpfs/*", tagged("bpfs"));
  ASSERT_EQ(call(star, "GET", "/bpfs/eth0", &q).status, 200);
  EXPECT_EQ(q.route, "/bpfs/*");
}

TEST(Router, GetOfInterfaceAndOfAll) {
  Request seen;
  const Router r = l3af_router(&seen);
  Response res = call(r, "GET", "/l3af/configs/v1/eth0");
  EXPECT_EQ(res.body, "get_iface");
  EXPECT_EQ(seen.params.at("version"), "v1");
  EXPECT_EQ(seen.params.at("iface"), "eth0");
  EXPECT_EQ(seen.path, "/l3af/configs/v1/eth0");

  res = call(r, "GET", "/l3af/configs/v1");
  EXPECT_EQ(res.body, "get_all");
  EXPECT_EQ(seen.params.size(), 1u);
}

TEST(Router, StaticSegmentWinsOnlyForItsOwnMethod) {
  Request seen;
  const Router r = l3af_router(&seen);
  // Only POST is registered on .../add, so a GET is a GET of the interface "add".
  for (const char* name : {"add", "update", "delete", "restart"}) {
    const Response res = call(r, "GET", std::string("/l3af/configs/v1/") + name);
    EXPECT_EQ(res.status, 200) << name;
    EXPECT_EQ(res.body, "get_iface") << name;
    EXPECT_EQ(seen.params.at("iface"), name);
  }
}

TEST(Router, StaticSegmentBeatsParameterForTheSameMethod) {
  Router r;
  r.add("GET", "/a/{x}", tagged("param"));
  r.add("GET", "/a/b", tagged("static"));
  EXPECT_EQ(call(r, "GET", "/a/b").body, "static");
  EXPECT_EQ(call(r, "GET", "/a/c").body, "param");
}

TEST(Router, EmptyLastSegmentDoesNotMatchAParameter) {
  const Router r = l3af_router();
  const Response res = call(r, "GET", "/l3af/configs/v1/");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, "404 page not found\n");
  // Nor does an empty segment in the middle.
  EXPECT_EQ(call(r, "GET", "/l3af/configs//eth0").status, 404);
  EXPECT_EQ(call(r, "POST", "/l3af/configs//add").status, 404);
}

TEST(Router, UnknownPathIsPlainText404) {
  const Router r = l3af_router();
  for (const char* target : {"/", "/l3af", "/l3af/configs", "/l3af/configs/v1/eth0/extra",
                             "/L3AF/configs/v1", "/metrics"}) {
    const Response res = call(r, "GET", target);
    EXPECT_EQ(res.status, 404) << target;
    EXPECT_EQ(res.body, "404 page not found\n") << target;
    EXPECT_EQ(res.content_type.rfind("text/plain", 0), 0u) << res.content_type;
  }
}

TEST(Router, KnownPathWrongMethodIs405WithEmptyBodyAndAllow) {
  const Router r = l3af_router();
  Response res = call(r, "DELETE", "/l3af/configs/v1");
  EXPECT_EQ(res.status, 405);
  EXPECT_TRUE(res.body.empty());
  EXPECT_TRUE(has_header(res, "Allow", "GET"));

  // .../add has POST (static) and GET (through {iface}).
  res = call(r, "PUT", "/l3af/configs/v1/add");
  EXPECT_EQ(res.status, 405);
  EXPECT_TRUE(res.body.empty());
  EXPECT_TRUE(has_header(res, "Allow", "POST"));
  EXPECT_TRUE(has_header(res, "Allow", "GET"));

  res = call(r, "POST", "/l3af/configs/v1/eth0");
  EXPECT_EQ(res.status, 405);
  EXPECT_TRUE(has_header(res, "Allow", "GET"));
  EXPECT_FALSE(has_header(res, "Allow", "POST"));

  // HEAD is not mapped to GET (chi does not do it without middleware).
  EXPECT_EQ(call(r, "HEAD", "/l3af/configs/v1").status, 405);
}

TEST(Router, NonStandardMethodIs405EvenOnUnknownPaths) {
  const Router r = l3af_router();
  EXPECT_EQ(call(r, "FOO", "/l3af/configs/v1").status, 405);
  EXPECT_EQ(call(r, "get", "/l3af/configs/v1").status, 405);
  EXPECT_EQ(call(r, "FOO", "/nowhere").status, 405);
}

TEST(Router, PercentDecodesSegmentsAndKeepsEncodedSlashInItsSegment) {
  Request seen;
  const Router r = l3af_router(&seen);
  EXPECT_EQ(call(r, "GET", "/l3af/configs/v%31/eth%30").body, "get_iface");
  EXPECT_EQ(seen.params.at("version"), "v1");
  EXPECT_EQ(seen.params.at("iface"), "eth0");

  EXPECT_EQ(call(r, "GET", "/l3af/configs/v1/a%2Fb").body, "get_iface");
  EXPECT_EQ(seen.params.at("iface"), "a/b");
  EXPECT_EQ(seen.path, "/l3af/configs/v1/a/b");

  // '+' is not a space in a path; encoded static segments match too.
  EXPECT_EQ(call(r, "GET", "/l3af/configs/v1/a+b").body, "get_iface");
  EXPECT_EQ(seen.params.at("iface"), "a+b");
  EXPECT_EQ(call(r, "POST", "/l3af/configs/v1/%61dd").body, "add");
}

TEST(Router, MalformedPercentEscapeIs400Json) {
  const Router r = l3af_router();
  for (const char* target : {"/l3af/configs/v1/%zz", "/l3af/configs/v1/eth%3", "/l3af/%"}) {
    const Response res = call(r, "GET", target);
    EXPECT_EQ(res.status, 400) << target;
    EXPECT_EQ(res.content_type, "application/json");
    EXPECT_NE(res.body.find("\"code\":\"bad_request\""), std::string::npos) << res.body;
  }
}

TEST(Router, TargetNotStartingWithSlashIs400) {
  const Router r = l3af_router();
  EXPECT_EQ(call(r, "GET", "l3af/configs/v1").status, 400);
  EXPECT_EQ(call(r, "GET", "").status, 400);
}

TEST(Router, SplitsOffQueryString) {
  Request seen;
  const Router r = l3af_router(&seen);
  EXPECT_EQ(call(r, "GET", "/l3af/configs/v1?x=1&y=%20").body, "get_all");
  EXPECT_EQ(seen.query, "x=1&y=%20");
  EXPECT_EQ(seen.path, "/l3af/configs/v1");
  EXPECT_EQ(call(r, "GET", "/l3af/configs/v1/eth0?").body, "get_iface");
  EXPECT_EQ(seen.query, "");
  EXPECT_EQ(seen.params.at("iface"), "eth0");
  // A '?' inside the query does not start another one; an encoded '?' is path data.
  EXPECT_EQ(call(r, "GET", "/l3af/configs/v1/a%3Fb?c?d").body, "get_iface");
  EXPECT_EQ(seen.params.at("iface"), "a?b");
  EXPECT_EQ(seen.query, "c?d");
}

TEST(Router, AbsoluteFormTargetUsesItsPath) {
  Request seen;
  const Router r = l3af_router(&seen);
  EXPECT_EQ(call(r, "GET", "http://localhost:53000/l3af/configs/v1/eth0").body, "get_iface");
  EXPECT_EQ(seen.params.at("iface"), "eth0");
  EXPECT_EQ(call(r, "GET", "http://localhost:53000").status, 404);
}

TEST(Router, DifferentParameterNamesAtTheSamePositionAreTriedInOrder) {
  Request seen;
  Router r;
  r.add("GET", "/x/{a}/one", tagged("one", &seen));
  r.add("GET", "/x/{b}/two", tagged("two", &seen));
  EXPECT_EQ(call(r, "GET", "/x/q/two").body, "two");
  EXPECT_EQ(seen.params.at("b"), "q");
  EXPECT_EQ(seen.params.count("a"), 0u);
  EXPECT_EQ(call(r, "GET", "/x/q/one").body, "one");
  EXPECT_EQ(seen.params.at("a"), "q");
}

TEST(Router, CatchAllMatchesTheRestIncludingEmpty) {
  Request seen;
  Router r;
  r.add("GET", "/swagger/*", tagged("swagger", &seen));
  r.add("GET", "/swagger/doc.json", tagged("doc", &seen));
  EXPECT_EQ(call(r, "GET", "/swagger/index.html").body, "swagger");
  EXPECT_EQ(seen.params.at("*"), "index.html");
  EXPECT_EQ(call(r, "GET", "/swagger/a/b%2Fc").body, "swagger");
  EXPECT_EQ(seen.params.at("*"), "a/b/c");
  EXPECT_EQ(call(r, "GET", "/swagger/").body, "swagger");
  EXPECT_EQ(seen.params.at("*"), "");
  EXPECT_EQ(call(r, "GET", "/swagger/doc.json").body, "doc");
  EXPECT_EQ(call(r, "GET", "/swagger").status, 404);
  EXPECT_EQ(call(r, "POST", "/swagger/x").status, 405);
}

TEST(Router, RootAndTrailingSlashPatternsAreStatic) {
  Router r;
  r.add("GET", "/", tagged("root"));
  r.add("GET", "/dir/", tagged("dir"));
  EXPECT_EQ(call(r, "GET", "/").body, "root");
  EXPECT_EQ(call(r, "GET", "/dir/").body, "dir");
  EXPECT_EQ(call(r, "GET", "/dir").status, 404);
}

TEST(Router, SecondRegistrationReplacesTheFirst) {
  Router r;
  r.add("GET", "/a", tagged("first"));
  r.add("GET", "/a", tagged("second"));
  EXPECT_EQ(call(r, "GET", "/a").body, "second");
}

TEST(Router, ParamsFromAnEarlierDispatchAreCleared) {
  const Router r = l3af_router();
  Request q;
  call(r, "GET", "/l3af/configs/v1/eth0", &q);
  EXPECT_EQ(q.params.size(), 2u);
  call(r, "GET", "/nowhere", &q);
  EXPECT_TRUE(q.params.empty());
}

TEST(Router, HandlerExceptionsPropagate) {
  Router r;
  r.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("boom"); });
  Request q;
  q.method = "GET";
  q.target = "/boom";
  EXPECT_THROW(r.dispatch(q), std::runtime_error);
}

TEST(Router, RejectsInvalidPatterns) {
  Router r;
  EXPECT_THROW(r.add("GET", "no/slash", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{}", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{x}/{x}", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/*/b", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/x{y}", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add("FETCH", "/a", tagged("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a", Handler{}), std::invalid_argument);
}

TEST(Message, HeaderLookupIsCaseInsensitiveAndReturnsTheFirst) {
  Request q;
  q.headers = {{"Content-Type", "application/json"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(q.header("content-type"), "application/json");
  EXPECT_EQ(q.header("X-A"), "1");
  EXPECT_EQ(q.header("missing"), "");
}

TEST(Message, ErrorBodyEscapesStrings) {
  const Response r = error_response(413, "payload_too_large", "a \"q\"\\\n\x01");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            "{\"code\":\"payload_too_large\",\"message\":\"a \\\"q\\\"\\\\\\n\\u0001\","
            "\"errors\":[]}");
}

}  // namespace
}  // namespace l3afd::api::http
