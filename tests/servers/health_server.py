"""A gRPC health server for tests/grpc.rs, on loopback.

Usage: health_server.py PORT [--tls CERT KEY] [--no-health]

Prints "listening PORT" once serving. Then reads commands from stdin, one a
line, answering each with "ok" once applied:
  serving NAME       set service NAME ("" is the server) to SERVING
  not_serving NAME   set it to NOT_SERVING
  unknown NAME       set it to UNKNOWN
Exits when stdin closes.
"""

import sys
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

STATES = {
    "serving": health_pb2.HealthCheckResponse.SERVING,
    "not_serving": health_pb2.HealthCheckResponse.NOT_SERVING,
    "unknown": health_pb2.HealthCheckResponse.UNKNOWN,
}


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    tls = None
    with_health = True
    while args:
        arg = args.pop(0)
        if arg == "--tls":
            cert, key = args.pop(0), args.pop(0)
            with open(cert, "rb") as c, open(key, "rb") as k:
                tls = grpc.ssl_server_credentials([(k.read(), c.read())])
        elif arg == "--no-health":
            with_health = False
        else:
            sys.exit(f"unknown argument {arg}")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = health.HealthServicer()
    if with_health:
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    address = f"127.0.0.1:{port}"
    bound = server.add_secure_port(address, tls) if tls else server.add_insecure_port(address)
    server.start()
    print(f"listening {bound}", flush=True)
    for line in sys.stdin:
        words = line.split(maxsplit=1)
        if not words:
            continue
        name = words[1].strip() if len(words) > 1 else ""
        servicer.set(name, STATES[words[0]])
        print("ok", flush=True)
    server.stop(0)


if __name__ == "__main__":
    main()
