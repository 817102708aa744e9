def handler(payload, ctx):
    return "hello " + payload.decode()
