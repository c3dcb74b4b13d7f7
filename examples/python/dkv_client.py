#!/usr/bin/python3
"""A small Python client for dkv over gRPC, as a library and a command.

Uses Debian's python3-grpcio and the stubs that gen.sh generates from
proto/ into ./generated. Over gRPC, keys and values are raw bytes: no
base64 (that is only the REST API's JSON). Any node serves every call;
writes on a follower are forwarded to the leader.

    /usr/bin/python3 dkv_client.py --endpoint 127.0.0.1:7070 put greeting hello
    /usr/bin/python3 dkv_client.py get greeting
    /usr/bin/python3 dkv_client.py list gree
    /usr/bin/python3 dkv_client.py delete greeting
    /usr/bin/python3 dkv_client.py status

Exit codes: 0 success, 1 key not found (get), 2 bad usage or input
(INVALID_ARGUMENT), 3 any other error from the server or the connection
(UNAVAILABLE when no node answers), 4 the stubs or grpcio are missing.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "generated"))

try:
    import grpc
except ImportError:
    sys.stderr.write(
        "dkv_client: grpcio is missing: install python3-grpcio and run this"
        " with /usr/bin/python3 (Debian's packages load only there)\n"
    )
    sys.exit(4)
try:
    from dkv.v0 import cluster_pb2, cluster_pb2_grpc, kvstore_pb2, kvstore_pb2_grpc
except ImportError as e:
    sys.stderr.write(
        "dkv_client: no generated stubs in %s (%s): run gen.sh first\n"
        % (os.path.join(HERE, "generated"), e)
    )
    sys.exit(4)

EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2
EXIT_ERROR = 3


class DkvClient:
    """One gRPC channel to one dkv node, with the KVStore and ClusterService calls."""

    def __init__(self, endpoint, timeout=5.0):
        self.timeout = timeout
        self.channel = grpc.insecure_channel(endpoint)
        self.kv = kvstore_pb2_grpc.KVStoreStub(self.channel)
        self.cluster = cluster_pb2_grpc.ClusterServiceStub(self.channel)

    def close(self):
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def put(self, key, value):
        """Store value under key; returns the revision (Raft index) of the write."""
        reply = self.kv.Put(kvstore_pb2.PutRequest(key=key, value=value), timeout=self.timeout)
        return reply.revision

    def get(self, key, serializable=False):
        """The value of key, or None when it is absent. Linearizable unless serializable."""
        consistency = kvstore_pb2.SERIALIZABLE if serializable else kvstore_pb2.LINEARIZABLE
        try:
            reply = self.kv.Get(
                kvstore_pb2.GetRequest(key=key, consistency=consistency), timeout=self.timeout
            )
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return reply.value

    def delete(self, key):
        """Delete key; True when it existed."""
        reply = self.kv.Delete(kvstore_pb2.DeleteRequest(key=key), timeout=self.timeout)
        return reply.deleted

    def range(self, prefix=b"", limit=0, page_size=100):
        """Yield (key, value, mod_revision) of the keys under prefix in key order, page by page."""
        token = ""
        count = 0
        while True:
            want = page_size if limit == 0 else min(page_size, limit - count)
            reply = self.kv.Range(
                kvstore_pb2.RangeRequest(prefix=prefix, limit=want, page_token=token),
                timeout=self.timeout,
            )
            for kv in reply.kvs:
                yield kv.key, kv.value, kv.mod_revision
                count += 1
                if limit and count >= limit:
                    return
            token = reply.next_page_token
            if not token:
                return

    def status(self):
        """This node's view of the cluster: a dkv.v0.StatusResponse."""
        return self.cluster.Status(cluster_pb2.StatusRequest(), timeout=self.timeout)


def arg_bytes(text):
    """A command-line argument as bytes: UTF-8, undecodable bytes kept as they were."""
    return os.fsencode(text) if os.name == "posix" else text.encode("utf-8")


def print_bytes(*parts):
    """Write raw byte strings joined by tabs, then a newline, to stdout."""
    sys.stdout.flush()
    sys.stdout.buffer.write(b"\t".join(parts) + b"\n")
    sys.stdout.buffer.flush()


def cmd_put(client, args):
    revision = client.put(arg_bytes(args.key), arg_bytes(args.value))
    print("OK revision=%d" % revision)
    return 0


def cmd_get(client, args):
    value = client.get(arg_bytes(args.key), serializable=args.serializable)
    if value is None:
        sys.stderr.write("dkv_client: key not found: %s\n" % args.key)
        return EXIT_NOT_FOUND
    print_bytes(value)
    return 0


def cmd_delete(client, args):
    print("deleted" if client.delete(arg_bytes(args.key)) else "not found")
    return 0


def cmd_list(client, args):
    for key, value, _ in client.range(arg_bytes(args.prefix), args.limit, args.page_size):
        print_bytes(key, value)
    return 0


def cmd_status(client, args):
    s = client.status()
    role = cluster_pb2.Role.Name(s.role)
    print("node: %s" % s.node_id)
    print("role: %s" % role)
    print("term: %d" % s.term)
    print("leader: %s" % (s.leader_id or "(none)"))
    print("commit index: %d" % s.commit_index)
    print("applied index: %d" % s.applied_index)
    print("members: %d" % len(s.members))
    for m in s.members:
        line = "  %s %s %s" % (m.id, m.address, "learner" if m.learner else "voter")
        # Only the leader tracks its followers' progress.
        if s.role == cluster_pb2.LEADER:
            line += " match=%d %s" % (m.match_index, "reachable" if m.reachable else "unreachable")
        print(line)
    return 0


def positive_int(text):
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return n


def parser():
    p = argparse.ArgumentParser(prog="dkv_client", description="A dkv client over gRPC.")
    p.add_argument(
        "--endpoint",
        default=os.environ.get("DKV_ENDPOINT", "127.0.0.1:7070"),
        help="host:port of any node's gRPC port (default $DKV_ENDPOINT or 127.0.0.1:7070)",
    )
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per call (default 5)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("put", help="store a value")
    s.add_argument("key")
    s.add_argument("value")
    s.set_defaults(run=cmd_put)

    s = sub.add_parser("get", help="print a value (exit 1 when the key is missing)")
    s.add_argument("key")
    s.add_argument("--serializable", action="store_true", help="read this node's state, maybe stale")
    s.set_defaults(run=cmd_get)

    s = sub.add_parser("delete", help="delete a key")
    s.add_argument("key")
    s.set_defaults(run=cmd_delete)

    s = sub.add_parser("list", help="print key<TAB>value for each key under a prefix")
    s.add_argument("prefix", nargs="?", default="")
    s.add_argument("--limit", type=positive_int, default=0, help="at most this many keys (0: all)")
    s.add_argument("--page-size", type=positive_int, default=100, help="keys per request")
    s.set_defaults(run=cmd_list)

    s = sub.add_parser("status", help="this node's view of the cluster")
    s.set_defaults(run=cmd_status)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        with DkvClient(args.endpoint, args.timeout) as client:
            return args.run(client, args)
    except grpc.RpcError as e:
        sys.stderr.write("dkv_client: %s: %s: %s\n" % (args.endpoint, e.code().name, e.details()))
        return EXIT_BAD_INPUT if e.code() == grpc.StatusCode.INVALID_ARGUMENT else EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
