-- Who placed an attempt outside the contact's calling windows. Only a test call's explicit
-- "call now" may (runtime/api/routes/phone_calls.py, allowed to the roles of
-- runtime/api/auth.py may_call_now); the value names the role that asked, so an audit finds
-- every such dial later. NULL: the windows applied, as for every campaign call.
ALTER TABLE attempts ADD COLUMN window_override text;
