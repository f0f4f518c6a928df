"""The Lifeline window (issue 15): every site's recent past at a glance. main_window
lays it out and reads the history through the workers; rows paints the site rows;
painting draws strips and sparklines from app.timeline's segments and points; detail is
the pane for one site."""
