/**
 * Reading a QR code with the camera (runs in the browser's main thread): frames of a
 * getUserMedia stream drawn on a canvas and decoded with jsQR (BarcodeDetector is
 * absent from desktop Chrome). The camera stops as soon as a code is read or the
 * person closes the scanner. A text field takes the same link pasted instead.
 */
import jsQR from "jsqr";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { Button, Field, Notice } from "./controls";

function Camera({ onCode, onClose }: { onCode: (text: string) => void; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const handler = useRef(onCode);
  handler.current = onCode;

  useEffect(() => {
    let stream: MediaStream | null = null;
    let frame = 0;
    let stopped = false;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const scan = () => {
      const element = video.current;
      if (stopped || element === null || context === null) return;
      if (element.readyState >= element.HAVE_CURRENT_DATA && element.videoWidth > 0) {
        canvas.width = element.videoWidth;
        canvas.height = element.videoHeight;
        context.drawImage(element, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const code = jsQR(image.data, image.width, image.height, {
          inversionAttempts: "dontInvert",
        });
        if (code?.data) {
          stopped = true;
          handler.current(code.data);
          return;
        }
      }
      frame = requestAnimationFrame(scan);
    };
    navigator.mediaDevices
      ?.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then((media) => {
        stream = media;
        if (stopped || video.current === null) return;
        video.current.srcObject = media;
        void video.current.play().catch(() => {});
        frame = requestAnimationFrame(scan);
      })
      .catch((reason: unknown) => {
        setError(
          reason instanceof DOMException && reason.name === "NotAllowedError"
            ? "The camera was not allowed. Allow it in the browser, or paste the link below."
            : "No camera could be opened. Paste the link below instead.",
        );
      });
    if (navigator.mediaDevices === undefined)
      setError("This browser offers no camera here. Paste the link below.");
    return () => {
      stopped = true;
      cancelAnimationFrame(frame);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, []);

  return (
    <div className="camera">
      {error ? <Notice tone="error">{error}</Notice> : null}
      <video
        ref={video}
        className="camera-view"
        muted
        playsInline
        aria-label="Camera view for the QR code"
      />
      <Button tone="secondary" onPress={onClose}>
        Stop the camera
      </Button>
    </div>
  );
}

/** Scan or paste: `onText` gets the code's or the field's text. */
export function Scanner({
  onText,
  pasteLabel,
}: {
  onText: (text: string) => void;
  pasteLabel: string;
}) {
  const [camera, setCamera] = useState(false);
  const [text, setText] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim() !== "") onText(text.trim());
  };
  return (
    <div className="scanner">
      {camera ? (
        <Camera
          onCode={(code) => {
            setCamera(false);
            onText(code);
          }}
          onClose={() => setCamera(false)}
        />
      ) : (
        <Button onPress={() => setCamera(true)}>Scan a QR code</Button>
      )}
      <form onSubmit={submit} className="stack">
        <Field label={pasteLabel} value={text} onChange={setText} autoComplete="off" />
        <Button type="submit" tone="secondary">
          Open the link
        </Button>
      </form>
    </div>
  );
}
