/* Leaflet.VectorGrid 1.3.0 calls L.DomEvent.fakeStop, removed in Leaflet 1.8 (issue
 * Leaflet/Leaflet.VectorGrid#274; fix merged in PR #288 but never released). Same logic,
 * with L.DomEvent.stop. */
(function () {
  "use strict";
  if (!L.Canvas || !L.Canvas.Tile) { return; }
  L.Canvas.Tile.include({
    _onClick: function (e) {
      var point = this._map.mouseEventToLayerPoint(e).subtract(this.getOffset());
      var clicked = null;
      for (var id in this._layers) {
        var layer = this._layers[id];
        if (layer.options.interactive && layer._containsPoint(point) &&
            !this._map._draggableMoved(layer)) {
          clicked = layer;
        }
      }
      if (clicked) {
        L.DomEvent.stop(e);
        this._fireEvent([clicked], e);
      }
    }
  });
})();
