// Point marker sprites: white shapes the points' colours tint.
import * as THREE from "three";

export type Marker = "dot" | "ring" | "diamond";

/** A white marker sprite: "dot" (training points), "ring" (held-out test points, hollow),
 *  "diamond" (points the user added). */
export function dotTexture(shape: Marker = "dot"): THREE.Texture {
  const c = document.createElement("canvas");
  c.width = c.height = 64;
  const g = c.getContext("2d")!;
  g.fillStyle = "#fff";
  g.beginPath();
  if (shape === "diamond") {
    g.moveTo(32, 2); g.lineTo(62, 32); g.lineTo(32, 62); g.lineTo(2, 32); g.closePath();
    g.fill();
  } else if (shape === "ring") {
    g.arc(32, 32, 29, 0, 2 * Math.PI);
    g.arc(32, 32, 17, 0, 2 * Math.PI, true);   // the hole (even-odd by winding)
    g.fill();
  } else {
    g.arc(32, 32, 28, 0, 2 * Math.PI);
    g.fill();
  }
  const t = new THREE.CanvasTexture(c);
  t.colorSpace = THREE.NoColorSpace;
  return t;
}
