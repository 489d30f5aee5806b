// The task's post-job step (task.json "postjobexecution"): remove what the main step wrote.
'use strict';
require('./shim').run('post');
