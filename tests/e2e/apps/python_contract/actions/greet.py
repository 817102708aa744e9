import six


def greeting(name):
    return "hello " + name + " (six " + six.__version__ + ")"
