"""The preview: each action as its network would show it, and the content calendar.

``site.render`` turns a plan into the files of a static site (cards by folder, a month
and a week calendar, an index, an iCalendar file); ``ics.ics`` is the calendar alone.
``cards`` builds display values (``display``) from a plan, ``text`` cuts text into
links, hashtags and mentions, ``calendar`` places actions on days. Jinja2 renders the pages from the
package's ``templates/``; nothing a manifest says can run, load or restyle anything.
"""
