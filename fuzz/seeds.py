#!/usr/bin/env python3
"""Writes the seed corpus, fuzz/corpus/<target>/seed-*, from rdy's own test
fixtures: the kubeconfig of src/kube/yaml.rs, the Kubernetes objects and
watch events of the API notes (docs/kubernetes.md §5), the ICMP packets of
src/probe/icmp/packet.rs, the database replies of src/probe/{postgres,mysql,
redis}/ and the command lines of tests/cli.rs.

Run it from anywhere; it replaces only seed-* files. libFuzzer grows the
corpus from these, and the grown entries stay out of git (.gitignore)."""

import os
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus"


def write(target, seeds):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("seed-*"):
        old.unlink()
    for i, seed in enumerate(seeds):
        if isinstance(seed, str):
            seed = seed.encode()
        (directory / f"seed-{i:02}").write_bytes(seed)


def kubeconfig():
    """The kubeconfig of `src/kube/yaml.rs`'s tests (`const KUBECTL`), read
    from there so that the seed follows the fixture."""
    source = (ROOT / "src" / "kube" / "yaml.rs").read_text()
    return re.search(r'const KUBECTL: &str = r#"(.*?)"#;', source, re.S).group(1)

# docs/kubernetes.md §5, abbreviated to the fields rdy reads.
POD = r"""{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-7c5ddbdf54-x2k9p","namespace":"default","resourceVersion":"48213","generation":1,"labels":{"app":"web"}},"spec":{"initContainers":[{"name":"migrate","image":"busybox:1.36"},{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"app","image":"nginx:1.27"}]},"status":{"observedGeneration":1,"phase":"Running","conditions":[{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2025-06-01T10:00:15Z"}],"initContainerStatuses":[{"name":"migrate","state":{"terminated":{"exitCode":0,"reason":"Completed"}},"ready":true,"restartCount":0,"started":false}],"containerStatuses":[{"name":"app","state":{"running":{"startedAt":"2025-06-01T10:00:06Z"}},"ready":true,"restartCount":0,"started":true}]}}"""
DEPLOYMENT = r"""{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default","resourceVersion":"48277","generation":3,"annotations":{"deployment.kubernetes.io/revision":"3"}},"spec":{"replicas":3,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"progressDeadlineSeconds":600},"status":{"observedGeneration":3,"replicas":3,"updatedReplicas":3,"readyReplicas":3,"availableReplicas":3,"conditions":[{"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"web-7c5ddbdf54\" has successfully progressed."}]}}"""
SLICES = r"""{"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","metadata":{"resourceVersion":"48890"},"items":[{"metadata":{"name":"web-8xk2q"},"addressType":"IPv4","endpoints":[{"addresses":["10.244.1.17"],"conditions":{"ready":true,"serving":true,"terminating":false}},{"addresses":["10.244.2.9"],"conditions":{"ready":false}}],"ports":[{"name":"http","protocol":"TCP","port":80}]},{"metadata":{"name":"web-empty"},"endpoints":null}]}"""
EVENTS = [
    r"""{"type":"MODIFIED","object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default","resourceVersion":"48301","generation":4},"status":{"observedGeneration":3,"replicas":3,"updatedReplicas":3,"readyReplicas":3,"availableReplicas":3}}}""",
    r"""{"type":"BOOKMARK","object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"resourceVersion":"48950"}}}""",
    r"""{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 41000 (47000)","reason":"Expired","code":410}}""",
]
JSON_MISC = [
    r""" ["a\"\\\/\b\f\n\r\t", "\u00e9\ud83d\ude00", -0, 12.5e-3, 1E9, true, false, null, {}] """,
    r"""{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"abc","expirationTimestamp":"2024-07-05T13:08:20Z"}}""",
]

write("json", [POD, DEPLOYMENT, SLICES, *EVENTS, *JSON_MISC])
write(
    "kube_yaml",
    [
        kubeconfig(),
        '{"kind": "Config", "clusters": [{"name": "a"}]}',
        "a:\nb: ~\nc: null\nd: \"x\\ty\"\ne: [a, 'b c', {k: v}]\nf: 'x # not a comment'\n",
        "---\nk: >-\n  folded\n  text\nl:\n- - x\n  - y\n- {a: [1, {b: c}]}\n",
    ],
)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def reply_v4(ident, seq, payload):
    packet = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + payload
    return packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]


IP_HEADER = bytes([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1])
# First byte: bit 0 = IPv6, bit 1 = an IPv4 header comes first.
write(
    "icmp",
    [
        b"\x00" + reply_v4(1, 1, b"p"),
        b"\x02" + IP_HEADER + reply_v4(9, 300, b"abc"),
        b"\x01" + bytes([129, 0, 0xAB, 0xCD, 0, 1, 0, 2]) + b"x",
        b"\x00" + struct.pack("!BBHHH", 8, 0, 0, 0x1234, 7) + b"rdy-nonce",
    ],
)
write("duration", ["1500ms", "2s", "1m30s", "1h", "30", "0.5", ".5s", "1h2m3s4ms", "250us", "3µs", " 2s "])
write("status", ["200", "200, 300-302,4xx", "2xx,3xx", "100-599", "5XX"])
write(
    "header",
    [
        "Content-Type=application/json, Accept = text/plain",
        "Authorization=Bearer a=b",
        "Accept=text/html,application/json;q=0.9,X-A=1",
        "X-Empty=",
    ],
)
def scheme_examples():
    """Each scheme's `example:` in src/cli/scheme/*.rs and scheme.rs (the
    scheme table's rows), so that a new scheme is seeded by its row."""
    found = []
    for path in sorted((ROOT / "src" / "cli" / "scheme").glob("*.rs")) + [
        ROOT / "src" / "cli" / "scheme.rs"
    ]:
        found += re.findall(r'^    example: "(.*)",$', path.read_text(), re.M)
    return found


# First byte picks --type: 0 none, else the Nth row of the scheme table that
# --type may name (fuzz_targets/target.rs): 1 tcp, 2 http, ...
write(
    "target",
    [b"\x00" + e.encode() for e in scheme_examples()]
    + [
        b"\x00tcp://[::1]:80",
        b"\x02web:8080",
        b"\x04::1",
        b"\x00postgres.default.svc.cluster.local.:5432",
        b"\x06orders-db",
        b"\x00dns://x?type=A&type=AAAA",
    ],
)


def pg_message(kind, body):
    return kind + struct.pack(">I", len(body) + 4) + body


def mysql_packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


# The server side of the database probes' exchanges, as in the unit tests
# of src/probe/{postgres,mysql,redis}/.
write(
    "postgres",
    [
        pg_message(b"R", struct.pack(">I", 0)),
        pg_message(b"R", struct.pack(">I", 10) + b"SCRAM-SHA-256\0\0"),
        pg_message(b"E", b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"),
        pg_message(b"N", b"SNOTICE\0C00000\0Mhello\0\0") + pg_message(b"R", struct.pack(">I", 0)),
        pg_message(b"v", struct.pack(">II", 196608, 0)),
    ],
)
MARIADB_GREETING = (
    b"\x0a5.5.5-10.11.19-MariaDB\0" + struct.pack("<I", 7) + b"\0" * 9
    + struct.pack("<H", 0xF7FE) + b"\x2d" + struct.pack("<H", 2) + struct.pack("<H", 0x81FF)
    + b"\x15" + b"\0" * 10 + b"\0" * 13 + b"mysql_native_password\0"
)
write(
    "mysql",
    [
        mysql_packet(0, MARIADB_GREETING),
        mysql_packet(2, b"\xff\x15\x04#28000Access denied for user 'rdy'@'localhost' (using password: NO)"),
        mysql_packet(0, b"\xff\x69\x04Host '10.0.0.2' is blocked because of many connection errors"),
        mysql_packet(2, b"\x00\x00\x00\x02\x00\x00\x00"),
        mysql_packet(2, b"\xfecaching_sha2_password\0" + b"\x01" * 20 + b"\0"),
        mysql_packet(2, b"\x01\x04"),
    ],
)
write(
    "redis",
    [
        b"+PONG\r\n",
        b"-NOAUTH Authentication required.\r\n",
        b"-LOADING Redis is loading the dataset in memory\r\n",
        b"+OK\r\n-BUSY Redis is busy running a script.\r\n",
        b"$4\r\nPONG\r\n",
    ],
)
write(
    "kube_target",
    [
        b"\x00deployment/web",
        b"\x00prod/sts/db?stable=30s",
        b"\x00pods?selector=app%3Dweb%2Ctier%3Dfront",
        b"\x01pod/self?container=app",
        b"\x00svc/db?min=2",
        b"\x00deploy/pods?selector=a%3Db",
        b"\x00db/certificate.cert-manager.io/web?for=condition%3DReady",
        b"\x00crd/widgets.example.com",
        b"\x00secret/tls?key=tls.crt",
    ],
)
EXPECT_OBJECT = b'{"metadata":{"generation":2},"status":{"observedGeneration":2,"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}'
write(
    "kube_expect",
    [
        b"condition=Ready\x00" + EXPECT_OBJECT,
        b"condition=Ready=False",
        b"jsonpath={.status.phase}=Running\x00" + EXPECT_OBJECT,
        b"jsonpath={.status.phase}!=Pending",
        b'jsonpath={.status.conditions[?(@.type=="Ready")].status}=True\x00' + EXPECT_OBJECT,
        b"jsonpath={.status.loadBalancer.ingress[*].ip}",
        b"jsonpath=.metadata.annotations.a\\.io/b",
        b"create",
        b"delete",
    ],
)
DISCOVERY = b"""{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[
{"metadata":{"name":"cert-manager.io"},"versions":[{"version":"v1","resources":[{"resource":"certificates","responseKind":{"group":"","version":"","kind":"Certificate"},"scope":"Namespaced","singularResource":"certificate","shortNames":["cert","certs"],"verbs":["list","watch"]}],"freshness":"Current"}]},
{"metadata":{},"versions":[{"version":"v1","resources":[{"resource":"namespaces","responseKind":{"kind":"Namespace"},"scope":"Cluster","singularResource":"namespace","shortNames":["ns"]}]}]}]}"""
write("discovery", [b"cert\x00" + DISCOVERY, b"namespace\x00" + DISCOVERY, DISCOVERY])
write("base64", ["", "Zg==", "Zm8=", "Zm9v", "Zm9vYg", "Zm9v\nYmFy\n", "TFMwdExTMUNSVWRK"])
write("percent", ["metadata.name%3Dweb", "app%3Dweb%2Ctier%3Dfront", "a+b", "%e2%82%ac"])
write(
    "timestamp",
    [
        "2024-07-05T13:15:00.042Z",
        "2024-07-05T15:15:00.042+02:00",
        "2024-07-05T13:08:20Z",
        "2000-02-29t00:00:00.123456789z",
        "1970-01-01 00:00:00-00:30",
    ],
)
# [len_hi, len_lo, spare room, bit 0 = credentials] origin \0 credentials \0 head
HEAD = b"GET /health?x=1 HTTP/1.1\r\nhost: backend:8080\r\n\r\n"
write(
    "forward",
    [
        bytes([0, len(HEAD), 128, 1]) + b"http://backend:8080\0Basic dTpw\0" + HEAD,
        bytes([0, len(HEAD), 0, 0]) + b"http://a\0\0" + HEAD,
    ],
)


def cli(*pieces):
    """Arguments, and (name index, value) pairs for the environment."""
    out = []
    for piece in pieces:
        if isinstance(piece, tuple):
            # Index 0 would be a NUL, the separator: 38 = len(VARS) picks it too.
            out.append(bytes([1, piece[0] or 38]) + piece[1].encode())
        else:
            out.append(piece.encode())
    return b"\0".join(out)


# Indexes into VARS of fuzz_targets/cli.rs.
TARGET_ADDRESS, CHECK_INTERVAL, HTTP_HEADERS, STATUS, WAIT_HOSTS, WAIT_COMMAND = 0, 3, 6, 8, 22, 30
write(
    "cli",
    [
        cli("wait", "tcp://db:5432", "-t", "2m"),
        cli("wait", "-i", "500ms", "--type", "http", "web:8080", "--status", "200-299,304"),
        cli("check", "https://api/health", "-H", "Authorization=Bearer abc", "-k", "--name", "api"),
        cli("wait", "icmp://gw", "--icmp-read-timeout", "1s", "--", "sh", "-c", "true"),
        cli("wait", "k8s:deployment/web", "--interval", "1s"),
        cli("wait", "--then-post", "http://localhost:15020/quitquitquit", "db:1", "-q", "--log-format=json"),
        cli((TARGET_ADDRESS, "http://web:8080/health"), (CHECK_INTERVAL, "1s"),
            (HTTP_HEADERS, "Accept=text/html,application/json;q=0.9,X-A=1"), (STATUS, "2xx")),
        cli((WAIT_HOSTS, "db:5432, cache:6379"), (WAIT_COMMAND, "sh -c 'echo $HOME; exit 3'")),
        cli("wait", "-H", "X-A=1", "-H", "x-a=2", "--allow-duplicate-headers", "http://h/"),
        cli("--version"),
    ],
)

# What clients of `rdy serve` send: kubelet and load-balancer probes, a
# pipelined pair, HTTP/1.0 keep-alive, a token in the query and in a
# header, an absolute-form target, and the refusals of tests/serve.rs.
write(
    "serve_request",
    [
        "GET /self HTTP/1.1\r\nHost: 10.0.0.7:8081\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        "HEAD /all HTTP/1.1\r\nHost: rdy\r\n\r\nGET /ready/db HTTP/1.1\r\nHost: rdy\r\n\r\n",
        "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /api/healthz/default/deployment/web?token=t%20x&json HTTP/1.1\r\nHost: rdy\r\nAccept: application/json\r\n\r\n",
        "GET /all HTTP/1.1\r\nHost: rdy\r\nAuthorization: Bearer t\r\n\r\n",
        "GET http://rdy:8081/ready/app HTTP/1.1\r\nHost: rdy:8081\r\n\r\n",
        "GET /self HTTP/1.1\nHost: rdy\n\n",
        "GET /self HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /self HTTP/1.1\r\nHost: rdy\r\nContent-Length: 5\r\n\r\nhello",
        "GET /self HTTP/1.1\r\nHost: rdy\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: rdy\r\n\r\n",
        "\r\nGET /se",
    ],
)

# LIST and discovery bodies as the stream filter reads them.
write("json_stream", [POD, DEPLOYMENT, SLICES, *EVENTS, *JSON_MISC, '{"items":[' + POD + "," + DEPLOYMENT + "]}"])

# Watch responses as the API server streams them: one event per line,
# blank keep-alive lines, and an ERROR event (docs/kubernetes.md §3).
write(
    "watch_stream",
    [
        "\n".join(EVENTS) + "\n",
        EVENTS[0] + "\n\n" + EVENTS[1] + "\n",
        EVENTS[2] + "\n",
        EVENTS[0][:40],
        '{"type":"ADDED","object":{}}\r\n{"type":',
    ],
)

def h2_frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_literal(name, value):
    """A literal field without indexing, raw strings (RFC 7541 §6.2.2)."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


# RFC 7541 C.6.1: a response block with Huffman strings and table inserts.
RFC_C61 = bytes.fromhex(
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"
)
HEALTH_SERVING = b"\x00\x00\x00\x00\x02\x08\x01"
HEADERS_200 = b"\x88" + hpack_literal(b"content-type", b"application/grpc")
TRAILERS_OK = hpack_literal(b"grpc-status", b"0")
write(
    "h2",
    [
        # SETTINGS, ACK of ours, PING, headers, data, trailers.
        h2_frame(4, 0, 0, b"\x00\x03\x00\x00\x00\x64") + h2_frame(4, 1, 0, b"")
        + h2_frame(6, 0, 0, b"12345678") + h2_frame(1, 4, 1, HEADERS_200)
        + h2_frame(0, 0, 1, HEALTH_SERVING) + h2_frame(1, 5, 1, TRAILERS_OK),
        # Padded HEADERS split by CONTINUATION, trailers-only UNIMPLEMENTED.
        h2_frame(4, 0, 0, b"") + h2_frame(1, 8 | 1, 1, b"\x02" + HEADERS_200[:5] + b"\0\0")
        + h2_frame(9, 4, 1, HEADERS_200[5:] + hpack_literal(b"grpc-status", b"12")),
        h2_frame(4, 0, 0, b"") + h2_frame(7, 0, 0, b"\x00\x00\x00\x00\x00\x00\x00\x0bcalm down"),
        h2_frame(4, 0, 0, b"") + h2_frame(1, 4, 1, RFC_C61) + h2_frame(3, 0, 1, b"\x00\x00\x00\x08"),
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
    ],
)
write(
    "hpack",
    [
        RFC_C61,
        RFC_C61 + b"\xff" + bytes.fromhex("4883640effc1c0bf"),
        b"\x3f\xe1\x1f" + HEADERS_200,
        b":authority\nlocalhost:50051",
    ],
)
write("grpc_health", [HEALTH_SERVING, b"\x00\x00\x00\x00\x05\x12\x01x\x08\x02", "shop.Cart"])
DNS_QUERY_TAIL = b"\x02db\x04test\x00\x00\x01\x00\x01"
DNS_A = (b"\x00\x00\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00"
         + b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c"
         + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01")
write(
    "dns",
    [
        # [type | 0x80: our question spliced in, name length] name answer
        bytes([0x80, 7]) + b"db.test" + DNS_A,
        bytes([0x81, 7]) + b"db.test" + b"\x00\x00\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00",
        bytes([0x00, 7]) + b"db.test" + b"\x12\x34\x83\x80\x00\x01\x00\x00\x00\x00\x00\x00" + DNS_QUERY_TAIL,
    ],
)
