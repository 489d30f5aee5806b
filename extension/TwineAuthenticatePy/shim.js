// The Node side of the TwineAuthenticatePy task: find a Python 3.10 or newer, run the copy of
// twine-authenticate bundled in this folder with it, and make every way that can fail the
// task's failure. main.js (the step) and post.js (the post-job step) call run().
//
// No dependencies, on purpose: azure-pipelines-task-lib deletes INPUT_*, ENDPOINT_AUTH_*,
// SECRET_* and VSTS_TASKVARIABLE_* from process.env when it loads, and Python needs them all.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const MINIMUM = [3, 10];
// A pipeline variable (so an environment variable here) naming the interpreter to use.
const PYTHON_VARIABLE = 'TWINE_AUTHENTICATE_PYTHON';
// What the main step hands its post-job step, through ##vso[task.settaskvariable]: the agent
// gives them back to the post-job step (only to it) as VSTS_TASKVARIABLE_<NAME>.
const HANDED = ['PYPIRC_PATH', 'TWINE_AUTHENTICATE_RUN'];
const RUN_SCRIPT = path.join(__dirname, 'run.py');
const PROBE = 'import sys; print("%d.%d" % sys.version_info[:2]); print(sys.executable)';
const PROBE_TIMEOUT_MS = 60000;
const WINDOWS = process.platform === 'win32';

function escapeData(text) {
  return text.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function fail(message) {
  const data = escapeData(message);
  process.stdout.write(
    `##vso[task.issue type=error;]${data}\n##vso[task.complete result=Failed;]${data}\n`
  );
}

function candidates(env) {
  const chosen = env[PYTHON_VARIABLE];
  if (chosen) {
    return [{ label: `${PYTHON_VARIABLE}=${chosen}`, command: chosen, args: [] }];
  }
  const names = WINDOWS ? [['py', ['-3']], ['python', []], ['python3', []]] : [['python3', []], ['python', []]];
  return names.map(([command, args]) => ({ label: [command, ...args].join(' '), command, args }));
}

function present(file) {
  try {
    return fs.statSync(file).isFile();
  } catch (error) {
    if (!WINDOWS) {
      return false;
    }
    // A Microsoft Store app execution alias cannot always be stat'ed: if it is there at all,
    // the probe decides whether it is a Python.
    try {
      fs.lstatSync(file);
      return true;
    } catch (ignored) {
      return false;
    }
  }
}

// Every absolute path `command` has in PATH, in order, looked up in PATH's absolute entries
// only: an empty or relative entry would mean the working directory, the pipeline's
// repository, which must not be able to put a "python3" in our way (Windows would search it
// first by itself).
function resolve(command, env) {
  if (path.isAbsolute(command)) {
    return present(command) ? [command] : [];
  }
  if (command.includes('/') || command.includes('\\')) {
    return []; // relative to the working directory: not trusted
  }
  const extensions = WINDOWS && !path.extname(command) ? ['.exe', '.com'] : [''];
  const found = [];
  for (const directory of (env.PATH || '').split(path.delimiter)) {
    if (!directory || !path.isAbsolute(directory)) {
      continue;
    }
    for (const extension of extensions) {
      const file = path.join(directory, command + extension);
      if (present(file) && !found.includes(file)) {
        found.push(file);
      }
    }
  }
  return found;
}

function probe(file, args, env) {
  const result = childProcess.spawnSync(file, [...args, '-I', '-S', '-c', PROBE], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: PROBE_TIMEOUT_MS,
    windowsHide: true,
  });
  if (result.error) {
    const timedOut = result.error.code === 'ETIMEDOUT';
    return { problem: timedOut ? 'did not answer within 60 s' : `could not be started (${result.error.code})` };
  }
  if (result.status === 9009) {
    return { problem: 'is the Microsoft Store\'s "app execution alias", not an installed Python' };
  }
  if (result.status !== 0) {
    return { problem: `is not a working Python 3 (exit code ${result.status})` };
  }
  const [version, executable] = result.stdout.split(/\r?\n/);
  const [major, minor] = version.split('.').map(Number);
  if (!(major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]))) {
    return { problem: `is Python ${version}` };
  }
  // The interpreter itself, not a launcher or a shim script in front of it.
  return { executable: executable && path.isAbsolute(executable) ? executable : file, version };
}

function findPython(env) {
  const problems = [];
  for (const candidate of candidates(env)) {
    const files = resolve(candidate.command, env);
    if (files.length === 0) {
      problems.push(`${candidate.label}: not found`);
    }
    for (const file of files) {
      const found = probe(file, candidate.args, env);
      if (found.executable) {
        return { python: found };
      }
      problems.push(`${candidate.label} (${file}) ${found.problem}`);
    }
  }
  const wanted = MINIMUM.join('.');
  const how = env[PYTHON_VARIABLE]
    ? `Set the variable ${PYTHON_VARIABLE} to a Python ${wanted}+ interpreter, or remove it`
    : `Add a step "- task: UsePythonVersion@0" with versionSpec: "3.x" before this task, or set the variable ${PYTHON_VARIABLE} to the path of a Python ${wanted}+ interpreter`;
  return {
    problem: `No suitable Python found: this task needs Python ${wanted} or newer on the agent (${problems.join('; ')}). ${how}.`,
  };
}

// Runs `python -I -X utf8 -u run.py ARGS`: -I so that no PYTHON* variable, user site-packages
// or the working directory can put code in front of ours (run.py puts the bundled copy first),
// -X utf8 and -u because -I ignores PYTHONUTF8 and PYTHONUNBUFFERED: the agent reads UTF-8,
// and output must not wait in a buffer. Python's stdout passes through here, so that a
// failure Python did not report itself can still be reported.
function runPython(python, args, env) {
  return new Promise((resolvePromise) => {
    const child = childProcess.spawn(python.executable, ['-I', '-X', 'utf8', '-u', RUN_SCRIPT, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
      windowsHide: true,
    });
    let reported = false;
    let tail = '';
    const forward = (signal) => () => {
      if (child.exitCode === null) {
        child.kill(signal);
      }
    };
    const handlers = { SIGINT: forward('SIGINT'), SIGTERM: forward('SIGTERM') };
    for (const [signal, handler] of Object.entries(handlers)) {
      process.on(signal, handler);
    }
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const text = tail + chunk.toString('latin1');
      reported = reported || text.includes('##vso[task.complete');
      tail = text.slice(-32);
    });
    let startError = null;
    child.on('error', (error) => {
      startError = error;
    });
    child.on('close', (code, signal) => {
      for (const [name, handler] of Object.entries(handlers)) {
        process.removeListener(name, handler);
      }
      resolvePromise({ code, signal, reported, startError });
    });
  });
}

async function run(step) {
  // Whatever happens, the handler exits 0: the agent takes another exit code for a broken
  // agent, not a failed task. Failures are reported with ##vso[task.complete result=Failed].
  process.exitCode = 0;
  try {
    const env = Object.assign({}, process.env, { TWINE_AUTHENTICATE_TASK: '1' });
    const args = [];
    if (step === 'post') {
      if (!HANDED.some((name) => env[`VSTS_TASKVARIABLE_${name}`])) {
        console.log('Nothing to clean up: the main step of this task wrote no credentials file (it failed or did not run).');
        return;
      }
      // Exactly what this task's main step created, whatever the job variables say now.
      for (const name of HANDED) {
        delete env[name];
        const value = env[`VSTS_TASKVARIABLE_${name}`];
        if (value) {
          env[name] = value;
        }
      }
      args.push('cleanup');
    }
    const found = findPython(env);
    if (!found.python) {
      fail(found.problem);
      return;
    }
    const result = await runPython(found.python, args, env);
    if (result.startError) {
      fail(`Could not start ${found.python.executable}: ${result.startError.message}`);
    } else if ((result.code !== 0 || result.signal) && !result.reported) {
      const how = result.signal ? `was stopped by ${result.signal}` : `exited with code ${result.code}`;
      fail(`twine-authenticate (${found.python.executable}) ${how} without reporting why.`);
    }
  } catch (error) {
    fail(`The TwineAuthenticatePy task failed: ${error && error.message ? error.message : error}`);
  }
}

module.exports = { run };
