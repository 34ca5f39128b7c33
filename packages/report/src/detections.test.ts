import { describe, expect, it } from 'vitest';
import { detectionsOf, outputKeys } from './detections.js';

const box = { x: 50, y: 40, width: 20, height: 10, confidence: 0.9, class: 'car', class_id: 1 };

describe('detectionsOf', () => {
  it('reads the emulator and Roboflow shape: a predictions array, with the record size', () => {
    expect(detectionsOf({ file_name: 'a.jpg', width: 640, height: 480, predictions: [box] })).toEqual({
      key: 'predictions',
      boxes: [{ label: 'car', confidence: 0.9, x: 50, y: 40, width: 20, height: 10 }],
      image: { width: 640, height: 480 },
    });
  });

  it('reads a Workflow output holding {image, predictions} under any key', () => {
    const found = detectionsOf({ model_output: { image: { width: 100, height: 80 }, predictions: [box] } });
    expect(found?.key).toBe('model_output');
    expect(found?.image).toEqual({ width: 100, height: 80 });
    expect(found?.boxes).toHaveLength(1);
  });

  it('reads CSV cells: JSON text and numbers as text', () => {
    const found = detectionsOf({
      width: '8',
      height: '6',
      predictions: JSON.stringify([box, { ...box, class: 'dog' }]),
    });
    expect(found?.boxes.map((b) => b.label)).toEqual(['car', 'dog']);
    expect(found?.image).toEqual({ width: 8, height: 6 });
  });

  it('an empty list under a detections key is zero detections; elsewhere it is not detections', () => {
    expect(detectionsOf({ predictions: [] })?.boxes).toEqual([]);
    expect(detectionsOf({ tags: [] })).toBeUndefined();
  });

  it('outputs that are not boxes are not detections, and a label falls back to the class id', () => {
    expect(detectionsOf({ count: 3, caption: 'a cat', scores: [0.1, 0.2] })).toBeUndefined();
    expect(detectionsOf({ predictions: [{ ...box, x: 'left' }] })).toBeUndefined();
    expect(
      detectionsOf({ predictions: [{ x: 1, y: 1, width: 1, height: 1, class_id: 4 }] })?.boxes[0]?.label,
    ).toBe('4');
  });

  it('output keys leave out what the record says about itself', () => {
    expect(outputKeys({ file_name: 'a', error: null, width: 1, count: 2, caption: 'x' })).toEqual([
      'count',
      'caption',
    ]);
  });
});
