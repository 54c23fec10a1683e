"""The requester CLI: `jit login | request | tickets | show | approve | ...`.

It talks to a JIT server only through the public GraphQL API (HTTP and
graphql-transport-ws), exactly as any other scripted client would.
"""
