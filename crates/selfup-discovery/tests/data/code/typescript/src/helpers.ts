// Copies of the small helpers (below the minimum size: not reported).

export function getId(obj: { id: number }): number {
  return obj.id;
}

export const identity = (value) => {
  const v = value;
  return v;
};
