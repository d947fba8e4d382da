/**
 * Loads @peculiar/x509 (used to generate certificates, never on the handshake path).
 *
 * Its dependency tsyringe throws at load time unless a Reflect metadata polyfill exists, and we
 * do not depend on `reflect-metadata`: so we install the three functions tsyringe uses (only
 * when absent; an application's own `reflect-metadata` wins) and then import the library
 * dynamically, which guarantees the order (static imports would be evaluated first).
 */

type X509Module = typeof import('@peculiar/x509');

type MetadataKey = unknown;
type PropertyKeyOrNone = string | symbol | undefined;

interface ReflectWithMetadata {
  defineMetadata?: (key: MetadataKey, value: unknown, target: object, property?: string | symbol) => void;
  getOwnMetadata?: (key: MetadataKey, target: object, property?: string | symbol) => unknown;
  getMetadata?: (key: MetadataKey, target: object, property?: string | symbol) => unknown;
}

const store = new WeakMap<object, Map<PropertyKeyOrNone, Map<MetadataKey, unknown>>>();

function own(target: object, property: PropertyKeyOrNone, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (entries === undefined && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

/** Installs the functions on the global Reflect if `getMetadata` is absent. Idempotent. */
export function installReflectMetadata(): void {
  const reflect = Reflect as unknown as ReflectWithMetadata;
  if (typeof reflect.getMetadata === 'function') return;
  reflect.defineMetadata = (key, value, target, property) => {
    (own(target, property, true) as Map<MetadataKey, unknown>).set(key, value);
  };
  reflect.getOwnMetadata = (key, target, property) => own(target, property, false)?.get(key);
  reflect.getMetadata = (key, target, property) => {
    // Walk the prototype chain, bounded (prototype chains are short; cycles are impossible).
    let current: object | null = target;
    for (let depth = 0; current !== null && depth < 64; depth++) {
      const entries = own(current, property, false);
      if (entries?.has(key)) return entries.get(key);
      current = Object.getPrototypeOf(current) as object | null;
    }
    return undefined;
  };
}

let loaded: Promise<X509Module> | undefined;

/** Imports @peculiar/x509 once, with the Reflect metadata functions and WebCrypto in place. */
export function loadX509(): Promise<X509Module> {
  loaded ??= (async () => {
    installReflectMetadata();
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(globalThis.crypto);
    return x509;
  })();
  return loaded;
}
