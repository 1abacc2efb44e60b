import "leaflet/dist/leaflet.css";
import L from "leaflet";
import { useEffect, useRef } from "react";
import { useApi } from "../api";

export interface Place {
  lat: number;
  lon: number;
  label: string;
}

/**
 * Where things happened, on Leaflet. Tiles come only from the configured tile URL (CONSOLE_TILE_URL):
 * without one (tests, air-gapped sites) the points are drawn on a blank map with a scale.
 */
export default function MapView({ places, title }: { places: Place[]; title: string }) {
  const api = useApi();
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current || !places.length) return;
    const map = L.map(element.current, { attributionControl: Boolean(api.tileUrl) });
    if (api.tileUrl) L.tileLayer(api.tileUrl, { maxZoom: 19 }).addTo(map);
    L.control.scale().addTo(map);
    const markers = places.map((place) =>
      L.circleMarker([place.lat, place.lon], { radius: 8, color: "#b3261e", weight: 2 })
        .bindTooltip(place.label)
        .addTo(map),
    );
    map.fitBounds(L.featureGroup(markers).getBounds().pad(0.3), { maxZoom: 15 });
    return () => {
      map.remove();
    };
  }, [places, api.tileUrl]);
  if (!places.length) return <p>No location recorded.</p>;
  return (
    <figure className="map">
      <div ref={element} className="map-canvas" />
      <figcaption>
        {title}:{" "}
        {places.map((place) => `${place.label} (${place.lat.toFixed(4)}, ${place.lon.toFixed(4)})`).join("; ")}
      </figcaption>
    </figure>
  );
}
