"""The weather from Open-Meteo (no key): place name → coordinates → current and tomorrow."""

from __future__ import annotations

from typing import Any

import httpx

from voiced.converse.tools.registry import Tool, ToolError, tool

TIMEOUT_S = 8.0
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
            async with httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT_S) as http:
                response = await http.get(url, params=params)
        except (httpx.ConnectError, httpx.TimeoutException, httpx.NetworkError) as exc:
            raise ToolError(OFFLINE) from exc
        if response.status_code != 200:
            raise ToolError(f"the weather service answered {response.status_code}; try later")
        try:
            data = response.json()
        except ValueError as exc:
            raise ToolError("the weather service sent something unreadable") from exc
        if not isinstance(data, dict):
            raise ToolError("the weather service sent something unreadable")
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
        return dict(results[0])

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
    """Put a forecast into words (temperatures in °C, wind in km/h)."""
    where = ", ".join(str(p) for p in (place.get("name"), place.get("country")) if p)
    now = data.get("current") or {}
    parts = [f"In {where} it is now {now.get('temperature_2m')} degrees Celsius"]
    if now.get("apparent_temperature") is not None:
        parts[0] += f", feeling like {now['apparent_temperature']}"
    parts[0] += f", with {WMO_CODES.get(now.get('weather_code', -1), 'unknown weather')}"
    parts[0] += f", humidity {now.get('relative_humidity_2m')} percent"
    parts[0] += f" and wind at {now.get('wind_speed_10m')} kilometres per hour."
    daily = data.get("daily") or {}
    for index, day in enumerate(("Today", "Tomorrow")):
        try:
            low, high = daily["temperature_2m_min"][index], daily["temperature_2m_max"][index]
            sky = WMO_CODES.get(daily["weather_code"][index], "unknown weather")
        except (KeyError, IndexError, TypeError):
            continue
        rain = (daily.get("precipitation_probability_max") or [None, None])[index]
        chance = f", {rain} percent chance of rain" if rain is not None else ""
        parts.append(f"{day}: {sky}, from {low} to {high} degrees{chance}.")
    return " ".join(parts)


def weather_tools(service: OpenMeteo) -> list[Tool]:
    """Return the ``weather`` tool on ``service``."""

    @tool(timeout=20.0)
    async def weather(place: str) -> str:
        """Get the current weather and the forecast for today and tomorrow at a place.

        Args:
            place: A city or town name, such as "Lyon" or "Portland, Oregon".
        """
        found = await service.place(place.split(",")[0].strip() or place)
        data = await service.forecast(float(found["latitude"]), float(found["longitude"]))
        return describe(found, data)

    return [weather]
