// Zoom and pan for the dashboard's server-drawn SVG charts (no library, nothing fetched).
// Wheel or the +/- buttons zoom, dragging pans, a double-click or "reset" restores the view.
"use strict";
(function () {
  function box(svg) {
    return svg.getAttribute("viewBox").split(" ").map(Number);
  }
  function setBox(svg, b) {
    var o = svg.dataset.origin.split(" ").map(Number);
    var w = Math.min(o[2], Math.max(o[2] / 20, b[2]));
    var h = w * o[3] / o[2];
    var x = Math.min(o[0] + o[2] - w, Math.max(o[0], b[0]));
    var y = Math.min(o[1] + o[3] - h, Math.max(o[1], b[1]));
    svg.setAttribute("viewBox", [x, y, w, h].join(" "));
  }
  function zoom(svg, factor, fx, fy) {
    var b = box(svg);
    if (!factor) { svg.setAttribute("viewBox", svg.dataset.origin); return; }
    var cx = b[0] + b[2] * (fx === undefined ? 0.5 : fx);
    var cy = b[1] + b[3] * (fy === undefined ? 0.5 : fy);
    setBox(svg, [cx - (cx - b[0]) * factor, cy - (cy - b[1]) * factor, b[2] * factor, b[3] * factor]);
  }
  function init(svg) {
    svg.dataset.origin = svg.getAttribute("viewBox");
    var drag = null;
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = svg.getBoundingClientRect();
      zoom(svg, ev.deltaY < 0 ? 0.8 : 1.25, (ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height);
    }, { passive: false });
    svg.addEventListener("pointerdown", function (ev) {
      drag = { x: ev.clientX, y: ev.clientY, b: box(svg) };
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!drag) return;
      var r = svg.getBoundingClientRect();
      var s = drag.b[2] / r.width;
      setBox(svg, [drag.b[0] - (ev.clientX - drag.x) * s, drag.b[1] - (ev.clientY - drag.y) * s, drag.b[2], drag.b[3]]);
    });
    svg.addEventListener("pointerup", function () { drag = null; });
    svg.addEventListener("dblclick", function () { zoom(svg, 0); });
  }
  document.querySelectorAll("svg[data-zoom]").forEach(init);
  document.querySelectorAll("[data-zoom-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      var svg = button.closest("figure").querySelector("svg[data-zoom]");
      zoom(svg, Number(button.dataset.zoomStep));
    });
  });
})();
