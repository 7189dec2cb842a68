#!/usr/bin/env node
// Checks that each workspace package's manifest lists exactly what the package imports: the bare module
// specifiers of its src/**/*.ts(x) files (and its *.config.* files) against dependencies, devDependencies
// and peerDependencies. Prints what is missing and what is unused; exits 1 if anything is.
//
// Counted as used, besides imports: `@types/x` when `x` is imported (and `@types/node` always), and a
// dependency whose executable one of the package's own scripts runs (e.g. `vite build`, `tsc`).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORKSPACE_GLOBS = ['packages', 'services']; // each child folder is a package; `test` is one itself
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.replace(/^node:/, '')]));

// Static `import … from 'x'`, `import type …`, side-effect `import 'x'`, `export … from 'x'`, dynamic
// `import('x')`, and `require('x')` / `require.resolve('x')` / `createRequire(…).resolve('x')` for files
// found through node's resolution rather than imported.
const SPECIFIER_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire(?:\.resolve)?\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\bcreateRequire\([^)]*\)\.resolve\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function workspacePackages() {
  const dirs = WORKSPACE_GLOBS.flatMap((group) => {
    const base = path.join(ROOT, group);
    return existsSync(base) ? readdirSync(base).map((name) => path.join(base, name)) : [];
  });
  dirs.push(path.join(ROOT, 'test'));
  return dirs.filter((dir) => existsSync(path.join(dir, 'package.json')));
}

function sourceFiles(dir) {
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (name === 'node_modules' || name === 'dist') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) files.push(p);
    }
  };
  if (existsSync(path.join(dir, 'src'))) walk(path.join(dir, 'src'));
  for (const name of readdirSync(dir)) {
    if (/\.config\.(ts|mts|js|mjs|cjs)$/.test(name)) files.push(path.join(dir, name));
  }
  return files;
}

/** 'pkg/sub' → 'pkg', '@scope/name/sub' → '@scope/name'; undefined for relative, absolute and builtin specifiers. */
function packageName(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || specifier.startsWith('#')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return BUILTINS.has(name) || BUILTINS.has(specifier) ? undefined : name;
}

/**
 * Comments may show example imports (`// import x from 'y'`): drop whole-line `//` comments and block
 * comments that open a line. Only those: a `/*` inside a string (a glob such as 'src/*') is code.
 */
function withoutComments(text) {
  return text.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/^\s*\/\/.*$/gm, '');
}

function importedPackages(dir) {
  const used = new Map(); // name → first file that imports it
  for (const file of sourceFiles(dir)) {
    const text = withoutComments(readFileSync(file, 'utf8'));
    for (const pattern of SPECIFIER_PATTERNS) {
      for (const m of text.matchAll(pattern)) {
        const name = packageName(m[1]);
        if (name && !used.has(name)) used.set(name, path.relative(ROOT, file));
      }
    }
  }
  return used;
}

/** The executables a dependency installs (its package.json `bin`), found as node would find the package. */
function binsOf(dir, dep) {
  for (let d = dir; ; d = path.dirname(d)) {
    const file = path.join(d, 'node_modules', dep, 'package.json');
    if (existsSync(file)) {
      const { bin } = JSON.parse(readFileSync(file, 'utf8'));
      return typeof bin === 'string' ? [dep.replace(/^@[^/]+\//, '')] : Object.keys(bin ?? {});
    }
    if (d === path.dirname(d)) return []; // not installed: no executables known (run after pnpm install)
  }
}

let failed = false;
for (const dir of workspacePackages()) {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  const imported = importedPackages(dir);
  imported.delete(manifest.name);
  const scripts = Object.values(manifest.scripts ?? {}).join(' && ');
  const runByScript = (dep) => binsOf(dir, dep).some((bin) => new RegExp(`(^|[\\s;&|(])${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[\\s;&|)])`).test(scripts));

  const missing = [...imported].filter(([name]) => !declared.has(name));
  const unused = [...declared].filter((dep) => {
    if (imported.has(dep)) return false;
    if (dep === '@types/node') return false;
    const typed = /^@types\/(.+)$/.exec(dep)?.[1];
    if (typed) {
      const real = typed.includes('__') ? `@${typed.replace('__', '/')}` : typed;
      return !imported.has(real);
    }
    return !runByScript(dep);
  });

  const where = path.relative(ROOT, dir) || '.';
  for (const [name, file] of missing) console.log(`${where}: missing ${name} (imported by ${file})`);
  for (const dep of unused) console.log(`${where}: unused ${dep}`);
  if (missing.length || unused.length) failed = true;
}

if (failed) {
  console.log('check-deps: package.json dependencies do not match the imports (see above)');
  process.exit(1);
}
console.log('check-deps: every package lists exactly what it imports');
