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
// run.py's first line, with the interpreter's version.
const HANDSHAKE = /^twine-authenticate-task python (\d+)\.(\d+)\r?$/;
const HANDSHAKE_TIMEOUT_MS = Number(process.env.TWINE_AUTHENTICATE_HANDSHAKE_TIMEOUT_MS) || 60000;
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

// Runs `<candidate> -I -S -X utf8 -u run.py ARGS`. -I so that no PYTHON* variable, user
// site-packages or the working directory can put code in front of ours (run.py puts the
// bundled copy first); -S because the bundled copy needs nothing from site-packages (and no
// .pth file there runs first); -X utf8 and -u because -I ignores PYTHONUTF8 and
// PYTHONUNBUFFERED: the agent reads UTF-8, and output must not wait in a buffer.
//
// The run is also the probe: run.py's first act, before it imports anything of ours, is the
// line HANDSHAKE + "X.Y", and below 3.10 an exit. Until that line has come nothing the
// candidate prints reaches the log, so a Store stub, a Python 2 or an old Python is passed
// over with its reason and the next candidate tried: one interpreter start fewer than a
// separate probe. After it, stdout passes through here, so that a failure Python did not
// report itself can still be reported.
function attempt(file, prefixArgs, args, env) {
  return new Promise((resolvePromise) => {
    const child = childProcess.spawn(file, [...prefixArgs, '-I', '-S', '-X', 'utf8', '-u', RUN_SCRIPT, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let accepted = false;
    let version = null;
    let head = Buffer.alloc(0);
    const heldErrors = [];
    let reported = false;
    let tail = '';
    const passOn = (chunk) => {
      process.stdout.write(chunk);
      const text = tail + chunk.toString('latin1');
      reported = reported || text.includes('##vso[task.complete');
      tail = text.slice(-32);
    };
    child.stdout.on('data', (chunk) => {
      if (accepted) {
        passOn(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(10);
      if (end < 0 || version !== null) {
        return;
      }
      const match = HANDSHAKE.exec(head.subarray(0, end).toString('latin1'));
      if (!match) {
        return; // not our script talking: wait for the exit, then say what it printed
      }
      const [major, minor] = [Number(match[1]), Number(match[2])];
      version = `${major}.${minor}`;
      if (major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1])) {
        accepted = true;
        for (const held of heldErrors) {
          process.stderr.write(held);
        }
        if (head.length > end + 1) {
          passOn(head.subarray(end + 1));
        }
      }
    });
    child.stderr.on('data', (chunk) => {
      if (accepted) {
        process.stderr.write(chunk);
      } else {
        heldErrors.push(chunk);
      }
    });
    const forward = (signal) => () => {
      if (child.exitCode === null) {
        child.kill(signal);
      }
    };
    const handlers = { SIGINT: forward('SIGINT'), SIGTERM: forward('SIGTERM') };
    for (const [signal, handler] of Object.entries(handlers)) {
      process.on(signal, handler);
    }
    // A candidate that neither answers nor exits (not a Python at all) is given up on.
    let silent = false;
    const watchdog = setTimeout(() => {
      if (!accepted && version === null) {
        silent = true;
        child.kill('SIGKILL');
      }
    }, HANDSHAKE_TIMEOUT_MS);
    let startError = null;
    child.on('error', (error) => {
      startError = error;
    });
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      for (const [name, handler] of Object.entries(handlers)) {
        process.removeListener(name, handler);
      }
      if (accepted) {
        resolvePromise({ ran: true, code, signal, reported });
        return;
      }
      let problem;
      if (startError) {
        problem = `could not be started (${startError.code || startError.message})`;
      } else if (silent) {
        problem = `did not answer within ${HANDSHAKE_TIMEOUT_MS / 1000} s`;
      } else if (version !== null) {
        problem = `is Python ${version}`;
      } else if (code === 9009) {
        problem = 'is the Microsoft Store\'s "app execution alias", not an installed Python';
      } else {
        const said = Buffer.concat([head, ...heldErrors]).toString('utf8').trim().split(/\r?\n/)[0];
        const how = signal ? `stopped by ${signal}` : `exit code ${code}`;
        problem = `is not a working Python 3 (${how}${said ? `: ${said.slice(0, 200)}` : ''})`;
      }
      resolvePromise({ ran: false, problem });
    });
  });
}

// Runs run.py with the first candidate that turns out to be Python 3.10 or newer.
async function runPython(args, env) {
  const problems = [];
  for (const candidate of candidates(env)) {
    const files = resolve(candidate.command, env);
    if (files.length === 0) {
      problems.push(`${candidate.label}: not found`);
    }
    for (const file of files) {
      const result = await attempt(file, candidate.args, args, env);
      if (result.ran) {
        return Object.assign({ python: file }, result);
      }
      problems.push(`${candidate.label} (${file}) ${result.problem}`);
    }
  }
  const wanted = MINIMUM.join('.');
  const how = env[PYTHON_VARIABLE]
    ? `Set the variable ${PYTHON_VARIABLE} to a Python ${wanted}+ interpreter, or remove it`
    : `Add a step "- task: UsePythonVersion@0" with versionSpec: "3.x" before this task, or set the variable ${PYTHON_VARIABLE} to the path of a Python ${wanted}+ interpreter`;
  return {
    ran: false,
    problem: `No suitable Python found: this task needs Python ${wanted} or newer on the agent (${problems.join('; ')}). ${how}.`,
  };
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
    const result = await runPython(args, env);
    if (!result.ran) {
      fail(result.problem);
    } else if ((result.code !== 0 || result.signal) && !result.reported) {
      const how = result.signal ? `was stopped by ${result.signal}` : `exited with code ${result.code}`;
      fail(`twine-authenticate (${result.python}) ${how} without reporting why.`);
    }
  } catch (error) {
    fail(`The TwineAuthenticatePy task failed: ${error && error.message ? error.message : error}`);
  }
}

module.exports = { run };
