/**
 * TEST-ONLY: the few `Reflect` metadata functions tsyringe (used inside @peculiar/x509) checks
 * for at load time. The `reflect-metadata` package is not installed; x509's own registrations
 * only store and read values by key, which a WeakMap does. Import this before @peculiar/x509.
 */

type Target = object;
const store = new WeakMap<Target, Map<unknown, unknown>>();

function own(target: Target, property?: string | symbol): Map<unknown, unknown> | undefined {
  const key = property === undefined ? target : (store.get(target)?.get(property) as Target | undefined);
  return key === undefined ? undefined : store.get(key);
}

const polyfill = {
  defineMetadata(metadataKey: unknown, value: unknown, target: Target, property?: string | symbol): void {
    let holder: Target = target;
    if (property !== undefined) {
      let props = store.get(target);
      if (!props) store.set(target, (props = new Map()));
      let sub = props.get(property) as Target | undefined;
      if (!sub) props.set(property, (sub = {}));
      holder = sub;
    }
    let map = store.get(holder);
    if (!map) store.set(holder, (map = new Map()));
    map.set(metadataKey, value);
  },
  getOwnMetadata(metadataKey: unknown, target: Target, property?: string | symbol): unknown {
    return own(target, property)?.get(metadataKey);
  },
  getMetadata(metadataKey: unknown, target: Target, property?: string | symbol): unknown {
    // Walk the prototype chain, bounded by its depth.
    let current: Target | null = target;
    for (let depth = 0; current !== null && depth < 64; depth++) {
      const value = own(current, property)?.get(metadataKey);
      if (value !== undefined) return value;
      current = Object.getPrototypeOf(current) as Target | null;
    }
    return undefined;
  },
  hasMetadata(metadataKey: unknown, target: Target, property?: string | symbol): boolean {
    return polyfill.getMetadata(metadataKey, target, property) !== undefined;
  },
  metadata(metadataKey: unknown, value: unknown) {
    return (target: Target, property?: string | symbol) => polyfill.defineMetadata(metadataKey, value, target, property);
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') Object.assign(reflect, polyfill);

export {};
