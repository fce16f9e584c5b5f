import requests
from dateutil import parser


def handler(event, context):
    when = parser.isoparse(event["when"])
    return {"weekday": when.strftime("%A"), "requests": requests.__version__}
