"""The weather from Open-Meteo (no key): place name → coordinates → current and tomorrow."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx

from voiced.converse.tools.registry import Tool, ToolError, tool

TIMEOUT_S = 8.0
MAX_BODY = 1 << 20
"""Largest reply read from the weather service, in bytes (Open-Meteo's are about 2 KB)."""
MAX_PLACE = 200
"""Longest place name looked up, in characters."""
UNREADABLE = "the weather service sent something unreadable; try later"
OFFLINE = (
    "The weather service cannot be reached: this computer seems to be offline, or "
    "Open-Meteo is down. Tell the user you cannot get the weather right now."
)
WMO_CODES = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "freezing fog",
    51: "light drizzle",
    53: "drizzle",
    55: "heavy drizzle",
    56: "freezing drizzle",
    57: "heavy freezing drizzle",
    61: "light rain",
    63: "rain",
    65: "heavy rain",
    66: "freezing rain",
    67: "heavy freezing rain",
    71: "light snow",
    73: "snow",
    75: "heavy snow",
    77: "snow grains",
    80: "light showers",
    81: "showers",
    82: "violent showers",
    85: "snow showers",
    86: "heavy snow showers",
    95: "a thunderstorm",
    96: "a thunderstorm with hail",
    99: "a thunderstorm with heavy hail",
}
CURRENT = "temperature_2m,apparent_temperature,relative_humidity_2m,weather_code,wind_speed_10m"
DAILY = "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max"


class OpenMeteo:
    """A small client of Open-Meteo's geocoding and forecast APIs.

    Args:
        geocoding_url: Root of the geocoding API (``…/v1``).
        forecast_url: Root of the forecast API (``…/v1``).
        transport: An httpx transport instead of the network (for tests).
    """

    def __init__(
        self,
        geocoding_url: str,
        forecast_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.geocoding_url = geocoding_url.rstrip("/")
        self.forecast_url = forecast_url.rstrip("/")
        self._transport = transport

    async def _get(self, url: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            async with (
                httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT_S) as http,
                http.stream(
                    "GET", url, params=params, headers={"Accept-Encoding": "identity"}
                ) as response,
            ):
                if response.status_code != 200:
                    raise ToolError(
                        f"the weather service answered {response.status_code}; try later"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise ToolError(
                            f"the weather service sent more than {MAX_BODY >> 20} MB; try later"
                        )
        except (httpx.ConnectError, httpx.TimeoutException, httpx.NetworkError) as exc:
            raise ToolError(OFFLINE) from exc
        except httpx.HTTPError as exc:
            raise ToolError(UNREADABLE) from exc
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ToolError(UNREADABLE) from exc
        if not isinstance(data, dict):
            raise ToolError(UNREADABLE)
        return data

    async def place(self, name: str) -> dict[str, Any]:
        """Look a place up; return its first match (name, latitude, longitude, country…)."""
        data = await self._get(
            f"{self.geocoding_url}/search",
            {"name": name, "count": 1, "language": "en", "format": "json"},
        )
        results = data.get("results") or []
        if not results:
            raise ToolError(f"no place called {name!r} was found; ask the user to say it again")
        found = results[0] if isinstance(results, list) else None
        if not isinstance(found, dict) or not (
            _number(found.get("latitude"), 90) and _number(found.get("longitude"), 180)
        ):
            raise ToolError(UNREADABLE)
        return found

    async def forecast(self, latitude: float, longitude: float) -> dict[str, Any]:
        """Current conditions and today's and tomorrow's forecast at a point."""
        return await self._get(
            f"{self.forecast_url}/forecast",
            {
                "latitude": latitude,
                "longitude": longitude,
                "current": CURRENT,
                "daily": DAILY,
                "timezone": "auto",
                "forecast_days": 2,
            },
        )


def describe(place: dict[str, Any], data: dict[str, Any]) -> str:
    """Put a forecast into words (temperatures in °C, wind in km/h); odd values are "unknown"."""
    where = ", ".join(_name(p) for p in (place.get("name"), place.get("country")) if p)
    now = _mapping(data.get("current"))
    parts = [f"In {where} it is now {_reading(now.get('temperature_2m'))} degrees Celsius"]
    if _number(now.get("apparent_temperature")):
        parts[0] += f", feeling like {now['apparent_temperature']}"
    parts[0] += f", with {_sky(now.get('weather_code'))}"
    parts[0] += f", humidity {_reading(now.get('relative_humidity_2m'))} percent"
    parts[0] += f" and wind at {_reading(now.get('wind_speed_10m'))} kilometres per hour."
    daily = _mapping(data.get("daily"))
    for index, day in enumerate(("Today", "Tomorrow")):
        low = _item(daily, "temperature_2m_min", index)
        high = _item(daily, "temperature_2m_max", index)
        if not (_number(low) and _number(high)):
            continue
        sky = _sky(_item(daily, "weather_code", index))
        rain = _item(daily, "precipitation_probability_max", index)
        chance = f", {rain} percent chance of rain" if _number(rain) else ""
        parts.append(f"{day}: {sky}, from {low} to {high} degrees{chance}.")
    return " ".join(parts)


def _number(value: object, limit: float = 1e6) -> bool:
    """Whether ``value`` is a finite JSON number no larger than ``limit`` either side of 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) <= limit


def _reading(value: object) -> str:
    return str(value) if _number(value) else "unknown"


def _sky(code: object) -> str:
    return WMO_CODES.get(code, "unknown weather") if isinstance(code, int) else "unknown weather"


def _name(value: object) -> str:
    text = str(value) if isinstance(value, str | int | float) else "?"
    return text[:100]


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _item(table: dict[str, Any], key: str, index: int) -> object:
    values = table.get(key)
    return values[index] if isinstance(values, list) and len(values) > index else None


def weather_tools(service: OpenMeteo) -> list[Tool]:
    """Return the ``weather`` tool on ``service``."""

    @tool(timeout=20.0)
    async def weather(place: str) -> str:
        """Get the current weather and the forecast for today and tomorrow at a place.

        Args:
            place: A city or town name, such as "Lyon" or "Portland, Oregon".
        """
        if len(place) > MAX_PLACE:
            raise ToolError(f"a place name has at most {MAX_PLACE} characters")
        found = await service.place(place.split(",")[0].strip() or place)
        data = await service.forecast(float(found["latitude"]), float(found["longitude"]))
        return describe(found, data)

    return [weather]
