// The task's step (task.json "execution"): write the credentials, export PYPIRC_PATH.
'use strict';
require('./shim').run('main');
