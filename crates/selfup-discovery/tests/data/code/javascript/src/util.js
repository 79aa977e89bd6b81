// Small helpers: too small to be worth reporting when copied.

export function getId(obj) {
  return obj.id;
}

export const identity = (value) => {
  const v = value;
  return v;
};
