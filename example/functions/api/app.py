import orjson
from pydantic import BaseModel


class Greeting(BaseModel):
    message: str


def handler(event, context):
    greeting = Greeting(message=f"hello {event.get('name', 'world')}")
    return {"statusCode": 200, "body": orjson.dumps(greeting.model_dump()).decode()}
