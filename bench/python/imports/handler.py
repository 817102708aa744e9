import json
import urllib.request

import six


def handler(payload, ctx):
    return json.dumps({"hello": json.loads(payload or b"{}"), "six": six.__version__, "ua": urllib.request.URLopener.version})
