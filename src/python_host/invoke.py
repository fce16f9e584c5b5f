# lbuild's `lbuild run` driver: one Lambda invocation on a host CPython, as Lambda's Python
# runtime makes it. Run as `python -I -S invoke.py CONFIG RESULT`, where CONFIG is a JSON file
# lbuild writes (the handler, the event file, sys.path, the context's facts, the timeout) and
# RESULT the file this writes its answer to: {"result": <JSON text>} or {"error": <Lambda's error
# shape>}, with "duration_ms" and "request_id". The handler's own prints go to stdout and stderr,
# which lbuild sends to its stderr; the result never mixes with them.
#
# Everything the driver needs is imported before `sys.path` points at the function, so a module of
# the function named like one of the standard library's does not replace the driver's.
import datetime
import decimal
import importlib
import json
import os
import sys
import threading
import time
import traceback
import uuid

DRIVER = os.path.abspath(__file__)
IMPORTLIB = os.path.abspath(importlib.__file__)
# Whoever writes the answer first (the invocation, or the timeout) is the only one to write it.
ANSWERED = threading.Lock()


def answer(path, document, code):
    """Write the answer atomically and exit with `code`; a second answer is dropped."""
    if not ANSWERED.acquire(blocking=False):
        # The other writer exits the process.
        while True:
            time.sleep(60)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(document, out)
    os.replace(temporary, path)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def machinery(filename):
    """Whether a frame is the driver's or the import system's, which Lambda's traces leave out."""
    return filename.startswith("<frozen importlib") or os.path.abspath(filename) in (DRIVER, IMPORTLIB)


def error_shape(error, request_id, error_type=None, message=None, trace=True):
    """Lambda's error document for an exception: its frames without the driver's (none with
    `trace=False`, as Lambda reports a module that cannot be imported)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if not machinery(frame.filename)]
    return {
        "errorMessage": str(error) if message is None else message,
        "errorType": type(error).__name__ if error_type is None else error_type,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames) if trace else [],
    }


def log_error(shape):
    """What Lambda's runtime logs for an error, on stderr."""
    sys.stderr.write("[ERROR] %s: %s\n" % (shape["errorType"], shape["errorMessage"]))
    if shape["stackTrace"]:
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(shape["stackTrace"]))
    sys.stderr.flush()


def decimal_default(value):
    """As Lambda's runtime serializes a result: a Decimal becomes a number, anything else fails."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


class LambdaContext:
    """The attributes and method of the context object Lambda's Python runtime passes."""

    def __init__(self, config, request_id, log_stream, deadline):
        self.function_name = config["function_name"]
        self.function_version = config["function_version"]
        self.invoked_function_arn = config["invoked_function_arn"]
        # A string, as Lambda's runtime reads it from the environment.
        self.memory_limit_in_mb = str(config["memory_mb"])
        self.aws_request_id = request_id
        self.log_group_name = config["log_group_name"]
        self.log_stream_name = log_stream
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(int((self._deadline - time.monotonic()) * 1000), 0)

    def log(self, message):
        sys.stderr.write(str(message))
        sys.stderr.flush()

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=None,"
            "identity=None])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
            )
        )


def main():
    config_path, result_path = sys.argv[1], sys.argv[2]
    # Logs in the order they are written, as Lambda shows them.
    sys.stdout.reconfigure(line_buffering=True)
    with open(config_path, encoding="utf-8") as config_file:
        config = json.load(config_file)
    request_id = str(uuid.uuid4())
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    log_stream = "%s/[%s]%s" % (today, config["function_version"], uuid.uuid4().hex)
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream
    timeout = float(config["timeout_s"])

    def fail(shape, started=None):
        log_error(shape)
        duration = 0.0 if started is None else (time.monotonic() - started) * 1000
        answer(result_path, {"error": shape, "duration_ms": duration, "request_id": request_id}, 1)

    # The function's directory first, then its layers', then the standard library.
    sys.path[:0] = config["path"]
    module_name, function_name = config["module"], config["function"]
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as error:
        fail(error_shape(error, request_id, "Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s"
                         % (module_name, error)))
    except ImportError as error:
        fail(error_shape(error, request_id, "Runtime.ImportModuleError", "Unable to import module '%s': %s"
                         % (module_name, error), trace=False))
    except BaseException as error:  # noqa: B036 - Lambda reports any failure of the import
        fail(error_shape(error, request_id))
    handler = getattr(module, function_name, None)
    if handler is None:
        fail({
            "errorMessage": "Handler '%s' missing on module '%s'" % (function_name, module_name),
            "errorType": "Runtime.HandlerNotFound",
            "requestId": request_id,
            "stackTrace": [],
        })

    with open(config["event_path"], "rb") as event_file:
        event = json.loads(event_file.read().decode("utf-8"))
    started = time.monotonic()
    deadline = started + timeout
    context = LambdaContext(config, request_id, log_stream, deadline)

    def timed_out():
        message = "RequestId: %s Error: Task timed out after %.2f seconds" % (request_id, timeout)
        fail({"errorMessage": message, "errorType": "Sandbox.Timedout", "requestId": request_id,
              "stackTrace": []}, started)

    timer = threading.Timer(timeout, timed_out)
    timer.daemon = True
    sys.stderr.write("START RequestId: %s Version: %s\n" % (request_id, config["function_version"]))
    sys.stderr.flush()
    timer.start()
    try:
        result = handler(event, context)
    except BaseException as error:  # noqa: B036 - SystemExit in a handler is an error in Lambda too
        timer.cancel()
        fail(error_shape(error, request_id), started)
    timer.cancel()
    duration = (time.monotonic() - started) * 1000
    try:
        text = json.dumps(result, default=decimal_default, allow_nan=False)
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        fail({
            "errorMessage": "Unable to marshal response: %s" % error,
            "errorType": "Runtime.MarshalError",
            "requestId": request_id,
            "stackTrace": [],
        }, started)
    sys.stdout.flush()
    sys.stderr.write("END RequestId: %s\n" % request_id)
    sys.stderr.write("REPORT RequestId: %s\tDuration: %.2f ms\n" % (request_id, duration))
    answer(result_path, {"result": text, "duration_ms": duration, "request_id": request_id}, 0)


main()
